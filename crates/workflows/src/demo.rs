//! `demo`: the seed's story on a scratch database — migration 001,
//! realistic dirty data, migration 003, the ledger's rules (004), their
//! checks, and a summary of what 003 produced.

use std::time::{Duration, Instant};

use mantis_datagen::{Counts, Progress, SeedError, Spec};
use mantis_migrate::scratch::{self, Recreated};
use mantis_migrate::verify::VerifyOptions;
use mantis_migrate::{
    ConnectOptions, Direction, Error, EventSink, Migrator, RunReport, Session, Target, VerifyRun,
};
use mantis_schema::summary::{self, Summary};

/// The mark on databases made by the demo; only those are ever replaced.
const MARK: &str = "mantis demo scratch database";
/// The baseline the seed's package was written against.
const BASELINE: u64 = 1;
/// The seed's migration: critical schema fixes.
const FIXES: u64 = 3;

/// What the demo is doing, as it happens.
#[derive(Debug)]
pub enum DemoEvent<'a> {
    /// Step `number` of [`DemoEvent::STEPS`] begins.
    Step {
        /// 1-based.
        number: u8,
        /// What it is.
        what: &'static str,
        /// What it does.
        detail: &'a str,
    },
    /// Seeding goes on.
    Seeding(Progress),
}

impl DemoEvent<'_> {
    /// How many steps the demo has.
    pub const STEPS: u8 = 5;
}

/// A migration run and how long it took.
#[derive(Debug)]
pub struct Timed {
    /// The run.
    pub run: RunReport,
    /// Its wall time.
    pub took: Duration,
}

/// What the demo did.
#[derive(Debug)]
pub struct Demo {
    /// The scratch database.
    pub target: ConnectOptions,
    /// Whether it was new or replaced an earlier demo's.
    pub recreated: Recreated,
    /// Migration 001.
    pub baseline: Timed,
    /// Rows seeded per table.
    pub counts: Counts,
    /// How long seeding took.
    pub seed_time: Duration,
    /// Migration 003.
    pub fixes: Timed,
    /// Migration 004.
    pub ledger: Timed,
    /// The checks of 003 to 006.
    pub checked: Vec<VerifyRun>,
    /// What 003 produced.
    pub summary: Summary,
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A migration, the scratch database or a check.
    #[error(transparent)]
    Engine(#[from] Error),
    /// Seeding.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// Reading what 003 produced.
    #[error("reading what 003 produced")]
    Summary(#[source] tokio_postgres::Error),
}

/// Runs the demo in database `database` of the server `admin` is connected
/// to with `server` (re-created if an earlier demo made it; any other
/// database of that name is left alone).
///
/// # Errors
/// [`DemoError`].
pub async fn demo(
    migrator: &Migrator,
    admin: &Session,
    server: &ConnectOptions,
    database: &str,
    products: u64,
    events: EventSink,
    on: &(dyn Fn(DemoEvent<'_>) + Sync),
) -> Result<Demo, DemoError> {
    let step = |number: u8, what: &'static str, detail: &str| {
        on(DemoEvent::Step {
            number,
            what,
            detail,
        });
    };
    step(1, "scratch database", database);
    let recreated = scratch::recreate(admin, database, MARK).await?;
    let target = server.with_dbname(database);
    let session = Session::connect(&target, events)
        .await
        .map_err(Error::from)?;

    step(2, "migration 001", "the core schema before 003");
    let baseline = timed(migrator.run(&session, Direction::Up, Target::Version(BASELINE))).await?;
    let spec = Spec {
        products,
        ..Spec::default()
    };
    step(
        3,
        "seed",
        &format!("{products} products with real-world dirt"),
    );
    let started = Instant::now();
    let seeding = |p: Progress| on(DemoEvent::Seeding(p));
    let counts = mantis_datagen::seed(session.client(), &spec, &seeding).await?;
    let seed_time = started.elapsed();
    step(4, "migration 003", "critical schema fixes, with backfills");
    let fixes = timed(migrator.run(&session, Direction::Up, Target::Version(FIXES))).await?;
    step(
        5,
        "migrations 004 to 006",
        "the inventory ledger's rules, set-based posting, the archive, books that refuse NaN",
    );
    let ledger = timed(migrator.run(&session, Direction::Up, Target::Default)).await?;
    let options = VerifyOptions::default();
    let mut checked = migrator
        .verify_applied(&session, &fixes.run, &options)
        .await?;
    checked.extend(
        migrator
            .verify_applied(&session, &ledger.run, &options)
            .await?,
    );
    let summary = summary::read(session.client())
        .await
        .map_err(DemoError::Summary)?;
    Ok(Demo {
        target,
        recreated,
        baseline,
        counts,
        seed_time,
        fixes,
        ledger,
        checked,
        summary,
    })
}

async fn timed<F>(run: F) -> Result<Timed, Error>
where
    F: std::future::Future<Output = Result<RunReport, Error>>,
{
    let started = Instant::now();
    let run = run.await?;
    Ok(Timed {
        run,
        took: started.elapsed(),
    })
}
