//! `mantis demo`: a scratch database, every migration applied, the status shown.

use anyhow::Result;
use mantis_migrate::{scratch, Direction};

use crate::args::Format;
use crate::cmd::status;
use crate::context::Context;

/// The mark on databases made by `mantis demo`; only those are ever replaced.
const MARK: &str = "mantis demo scratch database";

pub async fn run(ctx: &Context, database: &str) -> Result<()> {
    let migrator = ctx.migrator()?;
    let admin = ctx.session().await?;
    let recreated = scratch::recreate(&admin, database, MARK).await?;
    drop(admin);
    let options = ctx.connect.with_dbname(database);
    let session = ctx.session_to(&options).await?;
    let run = migrator.run(&session, Direction::Up, None, false).await?;
    let report = migrator.status(&session).await?;
    match ctx.format {
        Format::Json => crate::output::json(&serde_json::json!({
            "database": database,
            "scratch": recreated,
            "run": run,
            "status": report,
        })),
        Format::Text => {
            println!(
                "demo: scratch database \"{database}\" ({}); applied {} migration(s)\n",
                match recreated {
                    scratch::Recreated::New => "created",
                    scratch::Recreated::Replaced => "re-created",
                },
                run.completed.len()
            );
            print!("{}", status::render(&report));
            println!(
                "\nnext: mantis --database-url '{}' status",
                options.masked()
            );
            Ok(())
        }
    }
}
