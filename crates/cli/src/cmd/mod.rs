//! One file per command; each turns arguments into a library call and renders the result.

mod baseline;
mod demo;
mod migrate;
mod status;

use anyhow::Result;

use crate::args::{Cli, Command};
use crate::context::Context;
use mantis_migrate::Direction;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let ctx = Context::new(&cli.global)?;
    match cli.command {
        Command::Status => status::run(&ctx).await,
        Command::Plan { target, down } => {
            let direction = if down { Direction::Down } else { Direction::Up };
            migrate::run(&ctx, direction, target.to, true).await
        }
        Command::Up { target, dry_run } => {
            migrate::run(&ctx, Direction::Up, target.to, dry_run).await
        }
        Command::Down { target, dry_run } => {
            migrate::run(&ctx, Direction::Down, target.to, dry_run).await
        }
        Command::Baseline { version } => baseline::run(&ctx, version).await,
        Command::Demo { database } => demo::run(&ctx, &database).await,
    }
}
