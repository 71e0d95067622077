//! One file per command; each turns arguments into a library call and renders the result.

mod backups;
mod baseline;
mod demo;
mod health;
mod migrate;
mod seed;
mod status;
mod verify;

use anyhow::Result;

use crate::args::{Cli, Command};
use crate::context::Context;
use crate::exit::Fail;
use mantis_migrate::Direction;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let ctx = Context::new(&cli.global)?;
    if ctx.junit && !matches!(cli.command, Command::Verify { .. }) {
        return Err(Fail::usage("--format junit is only for `mantis verify`"));
    }
    match cli.command {
        Command::Status => status::run(&ctx).await,
        Command::Plan { target, down } => {
            let direction = if down { Direction::Down } else { Direction::Up };
            migrate::run(&ctx, direction, target.to, true).await
        }
        Command::Up {
            target,
            dry_run,
            restore_backup: None,
        } => migrate::run(&ctx, Direction::Up, target.to, dry_run).await,
        Command::Up {
            target,
            dry_run,
            restore_backup: Some(name),
        } => backups::up_and_restore(&ctx, target.to, dry_run, &name).await,
        Command::Down { target, dry_run } => {
            migrate::run(&ctx, Direction::Down, target.to, dry_run).await
        }
        Command::Baseline { version } => baseline::run(&ctx, version).await,
        Command::Seed {
            products,
            warehouses,
            seed,
        } => {
            let spec = mantis_datagen::Spec {
                seed,
                products,
                warehouses,
            };
            seed::run(&ctx, &spec).await
        }
        Command::Backups => backups::list(&ctx).await,
        Command::Verify { verify } => verify::run(&ctx, &verify).await,
        Command::Health => health::run(&ctx).await,
        Command::Demo { database, products } => demo::run(&ctx, &database, products).await,
    }
}
