//! The ledger's housekeeping while the shop sells: `mantis ledger archive`
//! of a year of movements, `mantis maintain` and `mantis ledger unarchive`
//! on a seeded database at the newest migration, each run while writers post
//! receipts through the ledger on random stock rows. Per command: wall time,
//! peak memory, and the writers' longest posting against their longest
//! before it started.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use mantis_inventory::{post, Kind, Posting};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::Server;
use crate::migration::seed_v1;
use crate::process;
use crate::Settings;

const OLD_MOVEMENTS: &str = include_str!("../sql/old_movements.sql");
const OLD_MOVEMENTS_STOCK: &str = include_str!("../sql/old_movements_stock.sql");
const STOCK_ROW_RANGES: &str = include_str!("../sql/stock_row_ranges.sql");
const CATALOGUE: &str = include_str!("../sql/catalogue.sql");

/// Writers posting during each command.
const WRITERS: usize = 4;
/// Pause between one writer's postings.
const PAUSE: Duration = Duration::from_millis(20);
/// How long the writers run before a command, for their baseline.
const BASELINE: Duration = Duration::from_secs(3);

/// What was measured.
#[derive(Debug, Clone, Default)]
pub struct Housekeeping {
    /// Products × 5 warehouses.
    pub products: u64,
    /// Movements created in the past (what the archive moves).
    pub old_movements: u64,
    /// Movements in the ledger before archiving.
    pub movements: u64,
    /// One row per command.
    pub runs: Vec<Measured>,
}

/// One command under writers.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// The command line.
    pub command: String,
    /// Wall time.
    pub wall: Duration,
    /// Peak resident memory, KiB.
    pub peak_kib: u64,
    /// Writers' postings during it.
    pub postings: u64,
    /// Writers' longest posting during it (ms).
    pub longest_ms: f64,
    /// Writers' longest posting before it (ms).
    pub baseline_ms: f64,
    /// What the command reported (its JSON, summarized).
    pub result: String,
}

/// Measures on a fresh database of `products` products with `old` past
/// movements.
pub async fn measure(
    server: &Server,
    settings: &Settings,
    products: u64,
    old: u64,
) -> Result<Housekeeping> {
    let name = crate::migration::database(products, "housekeeping");
    seed_v1(server, &settings.mantis, &name, products).await?;
    let url = server.url(&name);
    process::run(&settings.mantis, &["-q", "up"], &url)?;
    let client = server.client(&name).await?;
    let old_movements = write_old_movements(&client, old).await?;
    let movements: i64 = client
        .query_one("SELECT count(*) FROM core.stock_movement", &[])
        .await?
        .get(0);
    client
        .batch_execute("VACUUM ANALYZE core.stock_movement")
        .await?;
    let mut runs = Vec::new();
    for command in [
        vec![
            "--format",
            "json",
            "ledger",
            "archive",
            "--before",
            "2026-01-01",
        ],
        vec!["--format", "json", "maintain"],
        vec!["--format", "json", "ledger", "unarchive"],
    ] {
        eprintln!(
            "mantis-bench: {} under {WRITERS} writers",
            command[2..].join(" ")
        );
        runs.push(under_writers(server, settings, &name, &command).await?);
    }
    // The books (004's checks) and the archive's (005's): what archiving
    // and unarchiving could break. 003's plan checks are left out: on a
    // small database freshly analyzed, the planner may rightly prefer a scan.
    for version in ["4", "5"] {
        let verify = process::run_accepting(
            &settings.mantis,
            &["verify", "--version", version],
            &[("DATABASE_URL", url.clone())],
            &[0, 8],
        )?;
        if !verify.stdout.contains("MIGRATION SUCCESSFUL") {
            let failed: Vec<&str> = verify
                .stdout
                .lines()
                .filter(|l| l.contains("FAIL"))
                .collect();
            anyhow::bail!(
                "mantis verify --version {version} failed after archive and unarchive (database {name} kept):\n{}",
                failed.join("\n")
            );
        }
    }
    server.drop(&name).await?;
    Ok(Housekeeping {
        products,
        old_movements,
        movements: u64::try_from(movements).unwrap_or(0),
        runs,
    })
}

/// About `old` past movements, spread over every stock row, in chunks.
async fn write_old_movements(client: &tokio_postgres::Client, old: u64) -> Result<u64> {
    let rows: i64 = client
        .query_one("SELECT count(*) FROM core.stock_on_hand", &[])
        .await?
        .get(0);
    let rows = u64::try_from(rows).unwrap_or(0).max(1);
    let per_row = i32::try_from((old.div_ceil(rows)).div_ceil(2) * 2)
        .unwrap_or(2)
        .max(2);
    let chunk = (200_000 / i64::from(per_row)).max(1);
    let (_, stock_update) = OLD_MOVEMENTS_STOCK
        .split_once(";\n")
        .expect("old_movements_stock.sql: set_config; then the UPDATE");
    client
        .batch_execute("SET mantis.ledger_batch = 'on'; SET mantis.ledger_posting = 'on'")
        .await?;
    let mut written = 0;
    for range in client.query(STOCK_ROW_RANGES, &[&chunk]).await? {
        let (first, last): (Uuid, Uuid) = (range.get("first"), range.get("last"));
        written += client
            .execute(OLD_MOVEMENTS, &[&per_row, &first, &last])
            .await?;
        client
            .execute(stock_update, &[&per_row, &first, &last])
            .await?;
    }
    client
        .batch_execute("RESET mantis.ledger_batch; RESET mantis.ledger_posting")
        .await?;
    Ok(written)
}

/// Runs `args` while writers post; their longest posting before and during.
async fn under_writers(
    server: &Server,
    settings: &Settings,
    name: &str,
    args: &[&str],
) -> Result<Measured> {
    let targets = targets(&server.client(name).await?).await?;
    let phase = Arc::new(AtomicU8::new(0)); // 0 baseline, 1 during, 2 stop
    let mut writers = Vec::new();
    for i in 0..WRITERS {
        let client = server.client(name).await?;
        let targets = Arc::clone(&targets);
        let phase = Arc::clone(&phase);
        writers.push(tokio::spawn(async move {
            let mut longest = [0.0_f64; 2];
            let mut during = 0_u64;
            let mut n = i;
            loop {
                let now = usize::from(phase.load(Ordering::Relaxed));
                if now == 2 {
                    break;
                }
                n = (n * 7 + 13) % targets.len();
                let (sku, code) = &targets[n];
                let started = Instant::now();
                let line =
                    Posting::new(Kind::Receipt, sku, code, Decimal::ONE).at(Decimal::new(1050, 2));
                post(&client, &[line])
                    .await
                    .map_err(|e| anyhow::anyhow!("writer: {e}"))?;
                let took = started.elapsed().as_secs_f64() * 1e3;
                longest[now] = longest[now].max(took);
                if now == 1 {
                    during += 1;
                }
                tokio::time::sleep(PAUSE).await;
            }
            Ok::<_, anyhow::Error>((longest, during))
        }));
    }
    tokio::time::sleep(BASELINE).await;
    phase.store(1, Ordering::Relaxed);
    let program = settings.mantis.clone();
    let owned: Vec<String> = args.iter().map(|a| (*a).to_string()).collect();
    let url = server.url(name);
    let ran = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = owned.iter().map(String::as_str).collect();
        process::run(&program, &args, &url)
    })
    .await??;
    phase.store(2, Ordering::Relaxed);
    let mut measured = Measured {
        command: format!("mantis {}", args[2..].join(" ")),
        wall: ran.wall,
        peak_kib: ran.peak_kib,
        result: summary(&ran.stdout),
        ..Measured::default()
    };
    for w in writers {
        let (longest, during) = w.await??;
        measured.baseline_ms = measured.baseline_ms.max(longest[0]);
        measured.longest_ms = measured.longest_ms.max(longest[1]);
        measured.postings += during;
    }
    Ok(measured)
}

/// (sku, warehouse code) pairs the writers post to.
async fn targets(client: &tokio_postgres::Client) -> Result<Arc<Vec<(String, String)>>> {
    let rows = client.query(CATALOGUE, &[&5000_i64]).await?;
    Ok(Arc::new(
        rows.iter()
            .map(|r| (r.get::<_, String>("sku"), r.get::<_, String>("code")))
            .collect(),
    ))
}

/// The figures a command's JSON reports that matter here.
fn summary(stdout: &str) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(stdout) else {
        return String::new();
    };
    if json.get("movements").is_some() {
        return format!(
            "{} movements, {} carried balances, {} batches, longest batch {} ms",
            json["movements"], json["carried"], json["batches"], json["longest_batch"]
        );
    }
    let skipped = json["analyzed"]
        .as_array()
        .map_or(0, |a| a.iter().filter(|s| !s["skipped"].is_null()).count());
    format!(
        "{} tables analyzed ({skipped} skipped), {} invalid indexes, {} brand groups to merge",
        json["analyzed"].as_array().map_or(0, Vec::len),
        json["invalid_indexes"].as_array().map_or(0, Vec::len),
        json["audit"]["brands_alike"].as_array().map_or(0, Vec::len)
    )
}
