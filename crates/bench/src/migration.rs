//! Seed, migration 003 (mantis vs psql on identical copies), 004, verify
//! and down, at one scale.

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::db::Server;
use crate::process::{run, run_env, Ran};
use crate::stats::Samples;
use crate::Settings;

/// Warehouses at every scale (the "× 5 warehouses").
pub const WAREHOUSES: usize = 5;

/// What one scale measured.
#[derive(Debug, Clone, Default)]
pub struct Scale {
    /// Products.
    pub products: u64,
    /// Rows the seed loads.
    pub seed_rows: u64,
    /// `mantis seed`.
    pub seed: Samples,
    /// `mantis up --to 3`.
    pub up_mantis: Samples,
    /// `psql -f 003….up.sql` on an identical copy.
    pub up_psql: Samples,
    /// `mantis up` from 003 to 004.
    pub ledger_up: Samples,
    /// WAL the server wrote during `mantis up --to 3`, bytes, per run.
    pub wal_mantis: Vec<u64>,
    /// WAL the server wrote during psql's run of 003, bytes, per run.
    pub wal_psql: Vec<u64>,
    /// WAL the server wrote during `mantis up` (004 to the latest), bytes.
    pub wal_ledger: Vec<u64>,
    /// `mantis verify --version 3` (the seed's 11 sections).
    pub verify: Samples,
    /// `mantis down --to 1` (004 then 003, each saving its data).
    pub down: Samples,
    /// Peak RSS per command, KiB.
    pub rss: Vec<(&'static str, u64)>,
}

impl Scale {
    pub(crate) fn peak(&mut self, command: &'static str, kib: u64) {
        match self.rss.iter_mut().find(|(c, _)| *c == command) {
            Some((_, k)) => *k = (*k).max(kib),
            None => self.rss.push((command, kib)),
        }
    }
}

/// Creates database `name` at version 1 and seeds `products` products × 5
/// warehouses into it; returns the seed's run (JSON on stdout).
pub async fn seed_v1(server: &Server, mantis: &Path, name: &str, products: u64) -> Result<Ran> {
    server.create(name, None).await?;
    let url = server.url(name);
    run(mantis, &["-q", "up", "--to", "1"], &url)?;
    let (count, warehouses) = (products.to_string(), WAREHOUSES.to_string());
    run(
        mantis,
        &[
            "-q",
            "--format",
            "json",
            "seed",
            "--products",
            &count,
            "--warehouses",
            &warehouses,
        ],
        &url,
    )
}

/// Name of one of this run's databases: unique per process, so two runs on
/// one server (the smoke test beside the docs test) never meet.
pub fn database(products: u64, what: &str) -> String {
    format!("mantis_bench_{}_{products}_{what}", std::process::id())
}

/// Name of the seeded version-1 database of a scale (kept for the other suites).
pub fn base(products: u64) -> String {
    database(products, "v1")
}

/// Measures one scale; leaves [`base`] seeded at version 1.
pub async fn measure(
    server: &Server,
    settings: &Settings,
    products: u64,
    file_003: &Path,
) -> Result<Scale> {
    let mut scale = Scale {
        products,
        ..Scale::default()
    };
    for r in 0..settings.repeats {
        measure_seed(server, settings, &mut scale, r).await?;
    }
    for r in 0..settings.repeats {
        measure_migrations(server, settings, &mut scale, r, file_003).await?;
    }
    Ok(scale)
}

/// One `mantis seed` of the scale at version 1; the first is kept as [`base`].
async fn measure_seed(
    server: &Server,
    settings: &Settings,
    scale: &mut Scale,
    repeat: usize,
) -> Result<()> {
    let products = scale.products;
    let name = if repeat == 0 {
        base(products)
    } else {
        database(products, "seed")
    };
    let ran = seed_v1(server, &settings.mantis, &name, products).await?;
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).context("seed output")?;
    scale.seed_rows = json["rows"].as_u64().unwrap_or(0);
    scale.seed.push(ran.wall);
    scale.peak("seed", ran.peak_kib);
    if repeat > 0 {
        server.drop(&name).await?;
    }
    Ok(())
}

/// Runs `command` and returns it with the WAL the server wrote meanwhile
/// (every session's: the harness runs one thing at a time).
async fn wal_of(server: &Server, command: impl FnOnce() -> Result<Ran>) -> Result<(Ran, u64)> {
    let before = wal_position(server).await?;
    let ran = command()?;
    let after = wal_position(server).await?;
    Ok((ran, after.saturating_sub(before)))
}

/// The server's current WAL position, in bytes from its start.
async fn wal_position(server: &Server) -> Result<u64> {
    let row = server
        .admin
        .query_one(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint",
            &[],
        )
        .await
        .context("reading the WAL position")?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// 003 by mantis and by psql on two copies of [`base`] (which goes first
/// alternates, so neither always gets the warmer cache), then 004, verify
/// and down on mantis's copy.
async fn measure_migrations(
    server: &Server,
    settings: &Settings,
    scale: &mut Scale,
    repeat: usize,
    file_003: &Path,
) -> Result<()> {
    let products = scale.products;
    let mantis = settings.mantis.as_path();
    let file = file_003.display().to_string();
    let (a, b) = (database(products, "a"), database(products, "b"));
    server.create(&a, Some(&base(products))).await?;
    server.create(&b, Some(&base(products))).await?;
    let mut psql_env = server.options.with_dbname(&b).libpq_env();
    psql_env.push(("PGOPTIONS", mantis_schema::PSQL_OPTIONS.to_string()));
    let psql = || {
        run_env(
            Path::new("psql"),
            &["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", &file],
            &psql_env,
        )
    };
    let tool = || run(mantis, &["-q", "up", "--to", "3"], &server.url(&a));
    let ((ours, ours_wal), (theirs, theirs_wal)) = if repeat % 2 == 0 {
        let ours = wal_of(server, tool).await?;
        (ours, wal_of(server, psql).await?)
    } else {
        let theirs = wal_of(server, psql).await?;
        (wal_of(server, tool).await?, theirs)
    };
    scale.up_mantis.push(ours.wall);
    scale.up_psql.push(theirs.wall);
    scale.wal_mantis.push(ours_wal);
    scale.wal_psql.push(theirs_wal);
    scale.peak("up (003)", ours.peak_kib);
    let url = server.url(&a);
    let (ledger, ledger_wal) = wal_of(server, || run(mantis, &["-q", "up"], &url)).await?;
    scale.ledger_up.push(ledger.wall);
    scale.wal_ledger.push(ledger_wal);
    scale.peak("up (004)", ledger.peak_kib);
    let verify = run(mantis, &["-q", "verify", "--version", "3"], &url)?;
    scale.verify.push(verify.wall);
    scale.peak("verify", verify.peak_kib);
    let down = run(mantis, &["-q", "down", "--to", "1"], &url)?;
    scale.down.push(down.wall);
    scale.peak("down", down.peak_kib);
    server.drop(&a).await?;
    server.drop(&b).await?;
    Ok(())
}
