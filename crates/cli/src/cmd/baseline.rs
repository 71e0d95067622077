//! `mantis baseline --version V`.

use anyhow::Result;

use crate::context::Context;
use crate::output;

/// How many recorded migrations are named one by one; more are summed up.
const NAMED: usize = 8;

pub async fn run(ctx: &Context, version: u64, force: Option<&str>) -> Result<()> {
    let migrator = ctx.migrator()?;
    let session = ctx.session().await?;
    let report = migrator.baseline(&session, version, force).await?;
    output::emit(ctx.format, &report, || {
        let versions: Vec<String> = report
            .completed
            .iter()
            .map(|c| format!("{:03}_{}", c.version, c.name))
            .collect();
        format!(
            "baseline: recorded {} as applied without running anything; the database is at version {}\n",
            named(&versions),
            output::version(report.version_after)
        )
    })
}

/// The versions recorded, each named when few, else the first and last.
fn named(versions: &[String]) -> String {
    match versions {
        [first, .., last] if versions.len() > NAMED => {
            format!("{} migrations ({first} … {last})", versions.len())
        }
        _ => versions.join(", "),
    }
}
