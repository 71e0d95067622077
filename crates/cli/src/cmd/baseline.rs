//! `mantis baseline --version V`.

use anyhow::Result;

use crate::context::Context;
use crate::output;

pub async fn run(ctx: &Context, version: u64) -> Result<()> {
    let migrator = ctx.migrator()?;
    let session = ctx.session().await?;
    let report = migrator.baseline(&session, version).await?;
    output::emit(ctx.format, &report, || {
        let versions: Vec<String> = report
            .completed
            .iter()
            .map(|c| format!("{:03}_{}", c.version, c.name))
            .collect();
        format!(
            "baseline: recorded {} as applied without running anything; the database is at version {}\n",
            versions.join(", "),
            output::version(report.version_after)
        )
    })
}
