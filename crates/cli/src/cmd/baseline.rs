//! `mantis baseline --version V`.

use anyhow::Result;

use crate::args::Format;
use crate::context::Context;
use crate::output;

pub async fn run(ctx: &Context, version: u64) -> Result<()> {
    let migrator = ctx.migrator()?;
    let session = ctx.session().await?;
    let report = migrator.baseline(&session, version).await?;
    match ctx.format {
        Format::Json => output::json(&report),
        Format::Text => {
            let versions: Vec<String> = report
                .completed
                .iter()
                .map(|c| format!("{:03}_{}", c.version, c.name))
                .collect();
            println!(
                "baseline: recorded {} as applied without running anything; the database is at version {}",
                versions.join(", "),
                output::version(report.version_after)
            );
            Ok(())
        }
    }
}
