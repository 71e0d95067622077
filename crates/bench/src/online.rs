//! 003 and 004 while the shop sells: `mantis rehearse --workload --max-wait
//! 100ms` on a copy of a seeded version-1 database. Per table the longest
//! wait of a reader and of a random-row writer; the workload's latency
//! before and during; its invariants; how long each migration took.

use anyhow::{Context as _, Result};

use crate::db::Server;
use crate::migration::{base, seed_v1};
use crate::process::run_accepting;
use crate::Settings;

/// The gate's limit.
pub const MAX_WAIT_MS: u64 = 100;

/// What one online rehearsal measured.
#[derive(Debug, Clone, Default)]
pub struct Online {
    /// Products.
    pub products: u64,
    /// Whether every core was spinning and a write load ran beside it.
    pub busy: bool,
    /// Each probe's longest wait.
    pub probes: Vec<ProbeWait>,
    /// Operations, refused, failed.
    pub operations: (u64, u64, u64),
    /// p50 and p99 before, p50, p99 and longest during (ms).
    pub latency: [f64; 5],
    /// What the slowest workload operation waited on.
    pub slowest_waiting_on: String,
    /// The workload's longest wait beyond the server-wide stalls (ms).
    pub beyond_stalls_ms: f64,
    /// (invariant, rows, violations).
    pub invariants: Vec<(String, i64, i64)>,
    /// What broke the gate (empty: passed).
    pub over: Vec<String>,
    /// (version, ms) of each migration on the copy.
    pub migrations: Vec<(u64, u64)>,
    /// (version, bytes) of WAL written while each migration ran (all sessions).
    pub wal: Vec<(u64, u64)>,
    /// Peak RSS of mantis, KiB.
    pub peak_kib: u64,
}

/// One probe's longest wait during 003 and 004.
#[derive(Debug, Clone, Default)]
pub struct ProbeWait {
    /// The table probed (`-` for the control).
    pub table: String,
    /// reader, writer or control.
    pub kind: String,
    /// Its longest wait, in full (ms).
    pub longest_ms: u64,
    /// During which statement.
    pub during: String,
    /// What it was seen waiting on then.
    pub waiting_on: String,
    /// Its longest wait beyond the server-wide stall at the same moment
    /// (what the gate judges; none for the control).
    pub beyond_stalls_ms: Option<u64>,
}

/// Rehearses 003 and 004 with the workload at `products` (seeding a
/// version-1 database first when the migration measurements made none), on
/// a quiet server or a busy one ([`crate::busy`]).
pub async fn measure(
    server: &Server,
    settings: &Settings,
    products: u64,
    busy: bool,
) -> Result<Online> {
    let name = base(products);
    let seeded_here = !settings.scales.contains(&products);
    let mantis = settings.mantis.as_path();
    if seeded_here {
        seed_v1(server, mantis, &name, products).await?;
    }
    let max = format!("{MAX_WAIT_MS}ms");
    let load = if busy {
        Some(crate::busy::Busy::start(server).await?)
    } else {
        None
    };
    let ran = run_accepting(
        mantis,
        &[
            "-q",
            "--format",
            "json",
            "rehearse",
            "--workload",
            "--max-wait",
            &max,
        ],
        &[("DATABASE_URL", server.url(&name))],
        &[0, 8],
    );
    if let Some(load) = load {
        load.stop(server).await?;
    }
    let ran = ran?;
    if seeded_here {
        server.drop(&name).await?;
    }
    let mut online = parse(&ran.stdout)?;
    online.products = products;
    online.busy = busy;
    online.peak_kib = ran.peak_kib;
    Ok(online)
}

fn parse(stdout: &str) -> Result<Online> {
    let json: serde_json::Value = serde_json::from_str(stdout).context("rehearse output")?;
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
    let list = |v: &serde_json::Value| v.as_array().cloned().unwrap_or_default();
    let w = &json["workload"];
    let ms = |key: &str| w[key].as_f64().unwrap_or(0.0);
    Ok(Online {
        products: 0,
        busy: false,
        probes: list(&json["probes"])
            .iter()
            .map(|p| ProbeWait {
                table: text(&p["table"]),
                kind: text(&p["kind"]),
                longest_ms: p["longest_ms"].as_u64().unwrap_or(0),
                during: text(&p["during"]),
                waiting_on: text(&p["waiting_on"]),
                beyond_stalls_ms: p["beyond_stalls"]["ms"].as_u64(),
            })
            .collect(),
        operations: (
            w["operations"].as_u64().unwrap_or(0),
            w["refused"].as_u64().unwrap_or(0),
            w["failed"].as_u64().unwrap_or(0),
        ),
        latency: [
            ms("baseline_p50_ms"),
            ms("baseline_p99_ms"),
            ms("during_p50_ms"),
            ms("during_p99_ms"),
            ms("during_max_ms"),
        ],
        slowest_waiting_on: text(&w["slowest_waiting_on"]),
        beyond_stalls_ms: ms("during_max_beyond_stalls_ms"),
        invariants: list(&w["invariants"])
            .iter()
            .map(|i| {
                (
                    text(&i["name"]),
                    i["rows"].as_i64().unwrap_or(0),
                    i["violations"].as_i64().unwrap_or(-1),
                )
            })
            .collect(),
        over: list(&json["gate"]["over"]).iter().map(text).collect(),
        migrations: list(&json["run"]["completed"])
            .iter()
            .map(|c| {
                (
                    c["version"].as_u64().unwrap_or(0),
                    c["duration_ms"].as_u64().unwrap_or(0),
                )
            })
            .collect(),
        wal: wal_per_migration(&list(&json["statements"])),
        peak_kib: 0,
    })
}

/// The statements' WAL, summed per migration, in order.
fn wal_per_migration(statements: &[serde_json::Value]) -> Vec<(u64, u64)> {
    let mut totals: Vec<(u64, u64)> = Vec::new();
    for s in statements {
        let (Some(version), Some(bytes)) = (s["version"].as_u64(), s["wal_bytes"].as_u64()) else {
            continue;
        };
        match totals.last_mut() {
            Some((v, sum)) if *v == version => *sum += bytes,
            _ => totals.push((version, bytes)),
        }
    }
    totals
}
