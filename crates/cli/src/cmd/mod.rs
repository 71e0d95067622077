//! One file per command; each turns arguments into a library call and renders the result.

mod baseline;
mod books;
mod brand;
mod demo;
mod deploy;
mod health;
mod ledger;
mod lint;
mod maintain;
mod manual;
mod migrate;
mod pg_backup;
mod refresh;
mod rehearse;
mod report;
mod saved;
mod seed;
mod status;
mod stock;
mod supplier;
mod verify;

use anyhow::Result;

use crate::args::{Cli, Command, OutputFormat};
use crate::context::Context;
use crate::exit::Fail;
use mantis_migrate::Direction;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    // Generated from the argument definitions: no database, no connection settings.
    match cli.command {
        Command::Completions { shell } => return manual::completions(cli.global.format, shell),
        Command::Man => return manual::man(cli.global.format),
        _ => {}
    }
    let ctx = Context::new(&cli.global)?;
    if ctx.format == OutputFormat::Junit && !matches!(cli.command, Command::Verify { .. }) {
        return Err(Fail::usage("--format junit is only for `mantis verify`"));
    }
    if ctx.format == OutputFormat::Sarif && !matches!(cli.command, Command::Lint(_)) {
        return Err(Fail::usage("--format sarif is only for `mantis lint`"));
    }
    if ctx.format == OutputFormat::Csv && !lists(&cli.command) {
        return Err(Fail::usage(
            "--format csv is for listings: report, stock history|levels, brand list",
        ));
    }
    match cli.command {
        Command::Status { set } => status::run(&ctx.with_set(&set)).await,
        Command::Plan { target, down, plan } => {
            let direction = if down { Direction::Down } else { Direction::Up };
            let ctx = ctx.needing_session("plan", &plan.session)?.with_plan(&plan);
            migrate::run(&ctx, direction, target.target(), true).await
        }
        Command::Up {
            target,
            dry_run,
            restore_saved: None,
            run,
        } => {
            let ctx = ctx.needing_session("up", &run.plan.session)?.with_run(&run);
            migrate::run(&ctx, Direction::Up, target.target(), dry_run).await
        }
        Command::Up {
            target,
            dry_run,
            restore_saved: Some(name),
            run,
        } => {
            let ctx = ctx.needing_session("up", &run.plan.session)?.with_run(&run);
            saved::up_and_restore(&ctx, target.target(), dry_run, &name).await
        }
        Command::Down {
            target,
            dry_run,
            run,
        } => {
            let ctx = ctx
                .needing_session("down", &run.plan.session)?
                .with_run(&run);
            migrate::run(&ctx, Direction::Down, target.target(), dry_run).await
        }
        Command::Baseline {
            version,
            force,
            set,
            lock,
            session,
        } => {
            let ctx = ctx.needing_session("baseline", &session)?;
            let ctx = ctx.with_set(&set).with_lock_wait(&lock);
            baseline::run(&ctx, version, force.as_deref()).await
        }
        Command::Seed {
            products,
            warehouses,
            seed,
            session,
        } => {
            let spec = mantis_datagen::Spec {
                seed,
                products,
                warehouses,
            };
            seed::run(&ctx.needing_session("seed", &session)?, &spec).await
        }
        Command::Saved => saved::list(&ctx).await,
        Command::Deploy(args) => {
            let ctx = ctx
                .needing_session("deploy", &args.run.plan.session)?
                .with_run(&args.run);
            deploy::run(&ctx, &args).await
        }
        Command::Verify { verify, set } => verify::run(&ctx.with_set(&set), &verify).await,
        Command::Health => health::run(&ctx).await,
        Command::Lint(args) => {
            let weigh = cli.global.database_url.is_some();
            lint::run(&ctx.with_set(&args.set), &args, weigh).await
        }
        Command::Rehearse(args) => {
            let ctx = ctx
                .needing_session("rehearse", &args.run.plan.session)?
                .with_run(&args.run);
            rehearse::run(&ctx, &args).await
        }
        Command::Stock { command } => stock::run(&ctx, command).await,
        Command::Report { report } => report::run(&ctx, report).await,
        Command::Refresh { every, session } => {
            refresh::run(&ctx.needing_session("refresh", &session)?, every).await
        }
        Command::Ledger { command } => ledger::run(ctx, command).await,
        Command::Maintain(args) => {
            maintain::run(&ctx.needing_session("maintain", &args.session)?, &args).await
        }
        Command::Brand { command } => brand::run(&ctx, command).await,
        Command::Supplier { command } => supplier::run(&ctx, command).await,
        Command::Backup { file, tools } => pg_backup::backup(&ctx, file, &tools.tools()).await,
        Command::Restore { file, into, tools } => {
            pg_backup::restore(&ctx, &file, &into, &tools.tools()).await
        }
        Command::Demo {
            database,
            products,
            session,
        } => demo::run(&ctx.needing_session("demo", &session)?, &database, products).await,
        // Answered above, before any connection setting is read.
        Command::Completions { .. } | Command::Man => Ok(()),
    }
}

/// Commands that print a listing (and so may print CSV).
fn lists(command: &Command) -> bool {
    use crate::args::{BrandCommand, StockCommand};
    matches!(
        command,
        Command::Report { .. }
            | Command::Stock {
                command: StockCommand::History { .. } | StockCommand::Levels { .. }
            }
            | Command::Brand {
                command: BrandCommand::List
            }
    )
}
