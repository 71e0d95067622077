//! docs/BENCHMARKS.md, and the memory of the everyday commands.

use std::fmt::Write as _;
use std::time::Duration;

use crate::ledger::Run;
use crate::machine::Machine;
use crate::migration::Scale;
use crate::online::{self, Online};
use crate::reports::Report as QueryReport;
use crate::stats::{human, median_spread};
use crate::{Mode, Settings};

/// Everything one run measured.
pub struct Report<'a> {
    /// What was asked.
    pub settings: &'a Settings,
    /// Where.
    pub machine: &'a Machine,
    /// Per scale.
    pub scales: &'a [Scale],
    /// The online rehearsals.
    pub online: &'a [Online],
    /// Report queries at the largest scale.
    pub reports: &'a [QueryReport],
    /// Posting throughput.
    pub posting: &'a [Run],
    /// Other commands: (command, peak KiB, wall).
    pub commands: &'a [(String, u64, Duration)],
    /// Archive, maintain and unarchive under writers.
    pub housekeeping: &'a crate::housekeeping::Housekeeping,
    /// The whole run.
    pub took: Duration,
}

/// The whole document.
pub fn markdown(r: &Report) -> String {
    let mut md = String::new();
    let mode = match r.settings.mode {
        Mode::Smoke => "smoke",
        Mode::Quick => "quick",
        Mode::Full => "full",
    };
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by the benchmark harness (`crates/bench`, `mantis-bench --mode {mode}`) on {} at commit `{}`, in {:.0} s. \
         Do not edit by hand: run it again. Every comparison below was measured side by side in the same run; \
         durations are the median with the spread (min–max) of the repeats.\n",
        chrono::Utc::now().format("%Y-%m-%d"),
        r.machine.commit,
        r.took.as_secs_f64()
    );
    let _ = writeln!(
        md,
        "## Reproduce\n\n```sh\nscripts/bench --quick\nscripts/bench --full\n```\n"
    );
    let _ = writeln!(md, "`--quick`: 10,000 products × 5 warehouses, 3 repeats (under 3 minutes). `--full`: also 200,000 products × 5 warehouses. \
        `scripts/bench` makes PostgreSQL reachable, builds the release binaries and writes this file.\n");
    machine(&mut md, r.machine);
    targets(&mut md, r);
    migrations(&mut md, r.scales);
    online(&mut md, r);
    posting(&mut md, r);
    md.push_str(&housekeeping_section(r.housekeeping));
    queries(&mut md, r);
    memory(&mut md, r);
    md
}

fn machine(md: &mut String, m: &Machine) {
    let _ = writeln!(md, "## Machine\n\n| | |\n|---|---|");
    let _ = writeln!(md, "| CPU | {} ({} logical CPUs) |", m.cpu, m.cpus);
    let _ = writeln!(md, "| memory | {:.1} GiB |", m.memory_gib);
    let _ = writeln!(md, "| server | {} |", m.server);
    for (name, value) in &m.settings {
        let _ = writeln!(md, "| `{name}` | {value} |");
    }
    let _ = writeln!(md, "\nThe machine is shared and noisy: compare ratios within this file, not with other runs.\n");
}

/// The median of WAL sizes, in MB or GB.
fn wal_median(bytes: &[u64]) -> String {
    match median_bytes(bytes) {
        None => "-".to_string(),
        Some(b) if b >= 1_000_000_000 => format!("{:.2} GB", b as f64 / 1e9),
        Some(b) if b >= 10_000_000 => format!("{:.0} MB", b as f64 / 1e6),
        Some(b) => format!("{:.1} MB", b as f64 / 1e6),
    }
}

/// The median of byte counts (the upper one of an even count).
fn median_bytes(bytes: &[u64]) -> Option<u64> {
    let mut sorted = bytes.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied()
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}

fn targets(md: &mut String, r: &Report) {
    let _ = writeln!(md, "## Targets\n\n| target | measured | |\n|---|---|---|");
    online_targets(md, r);
    speed_targets(md, r);
    memory_targets(md, r);
    md.push('\n');
}

/// The 100 ms gate, per scale: judged beyond the server-wide stalls, with
/// the longest wait in full beside it.
fn online_targets(md: &mut String, r: &Report) {
    for o in r.online {
        let judged = o
            .probes
            .iter()
            .filter_map(|p| p.beyond_stalls_ms)
            .map(|ms| ms as f64)
            .fold(o.beyond_stalls_ms, f64::max);
        let in_full = o
            .probes
            .iter()
            .filter(|p| p.beyond_stalls_ms.is_some())
            .map(|p| p.longest_ms as f64)
            .fold(o.latency[4], f64::max);
        let _ = writeln!(
            md,
            "| no reader or writer waits > {} ms beyond the server-wide stalls during 003 and 004, workload invariants hold ({} products, {} server) | longest {judged:.0} ms beyond the stalls ({in_full:.0} ms in full) | {} |",
            online::MAX_WAIT_MS,
            o.products,
            server_is(o),
            verdict(o.over.is_empty())
        );
    }
}

/// Tool overhead, posting rate, valuation speedup and seed rate.
fn speed_targets(md: &mut String, r: &Report) {
    migration_targets(md, r.scales);
    posting_targets(md, r.posting);
    if let Some(v) = r.reports.iter().find(|q| q.name.starts_with("valuation")) {
        let speedup = ratio(v.before.median(), v.after.median());
        let products = r.scales.last().map_or(0, |s| s.products);
        let _ = writeln!(
            md,
            "| valuation from the view ≥ 100× the base-table aggregate (at 200,000 products; measured at {products}) | {speedup:.0}× | {} |",
            verdict(speedup >= 100.0)
        );
    }
    for s in r.scales {
        let rate = s.seed_rows as f64 / s.seed.median().as_secs_f64().max(1e-9);
        let _ = writeln!(
            md,
            "| seed ≥ 200,000 rows/s ({} products) | {:.0} rows/s | {} |",
            s.products,
            rate,
            verdict(rate >= 200_000.0)
        );
    }
}

/// How a tool-overhead row of the targets table begins.
pub const OVERHEAD_TARGET: &str = "| tool overhead ≤ 5% over psql";

/// How a WAL row of the targets table begins.
pub const WAL_TARGET: &str = "| WAL of 003 through 006";

/// 003's time against psql at every scale, and the WAL of 003 through 006
/// against the issue's budget: 1.1 GB at 200,000 products, 6 GB at
/// 1,000,000 (scales in between are not judged).
pub fn migration_targets(md: &mut String, scales: &[Scale]) {
    for s in scales {
        let overhead = (ratio(s.up_mantis.median(), s.up_psql.median()) - 1.0) * 100.0;
        let _ = writeln!(
            md,
            "{OVERHEAD_TARGET} (003, {} products) | {overhead:+.1}% | {} |",
            s.products,
            verdict(overhead <= 5.0)
        );
    }
    for s in scales {
        let budget: u64 = match s.products {
            200_000 => 1_100_000_000,
            1_000_000 => 6_000_000_000,
            _ => continue,
        };
        let of = |v: &[u64]| median_bytes(v).unwrap_or(0);
        let total = of(&s.wal_mantis) + of(&s.wal_ledger);
        let _ = writeln!(
            md,
            "{WAL_TARGET} ≤ {:.1} GB ({} products) | {:.2} GB | {} |",
            budget as f64 / 1e9,
            s.products,
            total as f64 / 1e9,
            verdict(total <= budget)
        );
    }
}

/// Peak memory of every command, and of a streamed `stock post`.
fn memory_targets(md: &mut String, r: &Report) {
    let peak = r
        .scales
        .iter()
        .flat_map(|s| s.rss.iter().map(|(_, k)| *k))
        .chain(r.commands.iter().map(|(_, k, _)| *k))
        .chain(r.online.iter().map(|o| o.peak_kib))
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        md,
        "| peak RSS < 200 MB for every command at every scale | {:.1} MB at most | {} |",
        peak as f64 / 1024.0,
        verdict(peak < 200 * 1024)
    );
    if let Some((label, kib, _)) = r.commands.iter().find(|(l, _, _)| l.contains("streamed")) {
        let _ = writeln!(
            md,
            "| `stock post` of a long file in constant memory (< 50 MB; {label}) | {:.1} MB | {} |",
            *kib as f64 / 1024.0,
            verdict(*kib < 50 * 1024)
        );
    }
    if let Some((label, kib, _)) = r.commands.iter().find(|(l, _, _)| l.starts_with("lint")) {
        let _ = writeln!(
            md,
            "| `mantis lint` of a big data migration in bounded memory (< 100 MB; {label}) | {:.1} MB | {} |",
            *kib as f64 / 1024.0,
            verdict(*kib < 100 * 1024)
        );
    }
}

/// The "Seed and migrations" section.
pub fn migrations_section(scales: &[Scale]) -> String {
    let mut md = String::new();
    migrations(&mut md, scales);
    md
}

fn migrations(md: &mut String, scales: &[Scale]) {
    let _ = writeln!(
        md,
        "## Seed and migrations\n\n`mantis up --to 3` and `psql -X -v ON_ERROR_STOP=1 -f 003_critical_schema_fixes.up.sql` ran on two copies \
         of the same seeded database, in alternating order. The seed's package claimed 5–10 minutes for 003. \
         *WAL*: what the server wrote while the command ran (`pg_current_wal_lsn()` before and after; nothing else ran), median.\n"
    );
    let _ = writeln!(md, "| products | rows seeded | `mantis seed` | rows/s | `mantis up --to 3` | psql | mantis / psql | WAL, mantis | WAL, psql | `mantis up` (004–006) | its WAL | `mantis verify --version 3` | `mantis down --to 1` |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for s in scales {
        let rate = s.seed_rows as f64 / s.seed.median().as_secs_f64().max(1e-9);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {rate:.0} | {} | {} | {:.3} | {} | {} | {} | {} | {} | {} |",
            s.products,
            s.seed_rows,
            median_spread(&s.seed),
            median_spread(&s.up_mantis),
            median_spread(&s.up_psql),
            ratio(s.up_mantis.median(), s.up_psql.median()),
            wal_median(&s.wal_mantis),
            wal_median(&s.wal_psql),
            median_spread(&s.ledger_up),
            wal_median(&s.wal_ledger),
            median_spread(&s.verify),
            median_spread(&s.down),
        );
    }
    let _ = writeln!(md);
}

/// `quiet` or `busy`: how the server was during a rehearsal.
fn server_is(o: &Online) -> &'static str {
    if o.busy {
        "busy"
    } else {
        "quiet"
    }
}

fn online(md: &mut String, r: &Report) {
    let _ = writeln!(
        md,
        "## Readers, writers and the shop during 003 and 004 (`mantis rehearse --workload --max-wait {}ms`)\n\n\
         On a copy of a seeded version-1 database, 003 and 004 ran while a reader (`SELECT … LIMIT 1`) and a writer \
         (an UPDATE of a random existing row, another each time) of each of the three largest tables ran every 20 ms, \
         each on its own connection, and the shop's workload ran on 4 more: 100 operations per second, receipts and \
         shipments through the ledger and direct quantity writes, on random stock rows. Before this work, a writer of \
         stock_on_hand waited 24.9 s at 1,000,000 products. *WAL*: what the server wrote while each migration ran, \
         every session's (the workload's share is small), from `pg_current_wal_lsn()` sampled beside the locks.\n",
        online::MAX_WAIT_MS
    );
    let _ = writeln!(
        md,
        "*waiting on*: what the probe's session was seen waiting for during its longest wait (sampled every 10 ms \
         from `pg_stat_activity`): `Lock:…` is a lock the migration held; `LWLock:WALWrite`, `IO:…` are commit and \
         I/O stalls under the migration's writes; `-` means it was never seen waiting. \
         *control*: a commit touching no table (a transactional WAL message) every 20 ms: it waits for no lock, \
         only for its WAL flush, so its waits are the server's own stalls, which every commit shares. \
         *beyond the stalls*: a wait less the time control commits were in flight during it (in full when the \
         session was seen waiting on a lock): what the gate judges (ADR-028, \"What the gate judges\"). \
         *server*: each scale runs twice, on a quiet server and on a busy one: every core of the machine spinning \
         (one busy thread per core) and another tenant's write load beside the workload (50-row inserts, each \
         committed, as fast as one connection goes, in a database of its own on the same server).\n"
    );
    probe_table(md, r);
    workload_table(md, r);
}

/// Each probe's longest wait, per scale.
fn probe_table(md: &mut String, r: &Report) {
    let _ = writeln!(
        md,
        "| products | server | table | probe | longest wait | beyond the stalls | during | waiting on |\n|---|---|---|---|---|---|---|---|"
    );
    for o in r.online {
        for p in &o.probes {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} ms | {} | {} | {} |",
                o.products,
                server_is(o),
                p.table,
                p.kind,
                p.longest_ms,
                p.beyond_stalls_ms
                    .map_or("-".to_string(), |ms| format!("{ms} ms")),
                p.during,
                p.waiting_on
            );
        }
    }
}

/// The workload's latency before and during, its invariants, the
/// migrations' time and WAL, and the gate, per scale.
fn workload_table(md: &mut String, r: &Report) {
    let _ = writeln!(
        md,
        "\n| products | server | operations (refused, failed) | before: p50, p99 | during: p50, p99, longest | longest beyond the stalls | invariants | 003 | 004 | WAL 003, 004 | gate |\n|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for o in r.online {
        let [b50, b99, d50, d99, dmax] = o.latency;
        let invariants = invariants(&o.invariants);
        let took = |v| {
            of_version(&o.migrations, v, |ms| {
                format!("{:.1} s", ms as f64 / 1000.0)
            })
        };
        let wal = |v| of_version(&o.wal, v, |bytes| format!("{:.2} GB", bytes as f64 / 1e9));
        let _ = writeln!(
            md,
            "| {} | {} | {} ({}, {}) | {b50:.1} ms, {b99:.1} ms | {d50:.1} ms, {d99:.1} ms, {dmax:.1} ms (waiting on {}) | {:.1} ms | {invariants} | {} | {} | {}, {} | {} |",
            o.products,
            server_is(o),
            o.operations.0,
            o.operations.1,
            o.operations.2,
            o.slowest_waiting_on,
            o.beyond_stalls_ms,
            took(3),
            took(4),
            wal(3),
            wal(4),
            if o.over.is_empty() { "passed".to_string() } else { format!("**failed**: {}", o.over.join("; ")) }
        );
    }
    let _ = writeln!(md);
}

/// Each invariant: holds, or how many rows break it.
fn invariants(checked: &[(String, i64, i64)]) -> String {
    checked
        .iter()
        .map(|(name, rows, bad)| {
            if *bad == 0 {
                format!("{name}: holds ({rows} rows)")
            } else {
                format!("{name}: **{bad} of {rows} rows broken**")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What `per_version` holds for migration `version`, shown, or `-`.
fn of_version(per_version: &[(u64, u64)], version: u64, show: impl Fn(u64) -> String) -> String {
    per_version
        .iter()
        .find(|(v, _)| *v == version)
        .map_or("-".to_string(), |(_, value)| show(*value))
}

fn posting(md: &mut String, r: &Report) {
    posting_table(md, r.posting);
}

/// The posting rows of the targets table.
pub fn posting_targets(md: &mut String, runs: &[crate::ledger::Run]) {
    for run in runs {
        let share = run.rate(run.ledger) / run.rate(run.plain) * 100.0;
        let _ = writeln!(
            md,
            "{POSTING_TARGET} ({} connection(s), batch {}) | {share:.0}% | {} |",
            run.connections,
            run.batch,
            verdict(share >= 50.0)
        );
    }
}

/// How a posting row of the targets table begins.
pub const POSTING_TARGET: &str = "| posting ≥ 50% of plain INSERTs";

/// Replaces the lines of `path` that begin with `prefix` by `lines`, in
/// place of the first of them.
pub fn splice_lines(path: &std::path::Path, prefix: &str, lines: &str) -> anyhow::Result<()> {
    let doc = std::fs::read_to_string(path)?;
    let mut out = String::with_capacity(doc.len());
    let mut placed = false;
    for line in doc.lines() {
        if line.starts_with(prefix) {
            if !placed {
                out.push_str(lines);
                placed = true;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    std::fs::write(path, out)?;
    Ok(())
}

/// The ledger-posting section, alone (also what `--only posting` prints).
pub fn posting_table(md: &mut String, runs: &[crate::ledger::Run]) {
    let movements = runs.first().map_or(0, |p| p.movements);
    let _ = writeln!(
        md,
        "## Ledger posting\n\n{movements} receipts on random (product, warehouse) pairs, per configuration. \
         *ledger*: `mantis_inventory::post` (line checks, SKU and code lookups, row locks in key order, the database's rules, \
         one transaction per batch); *rules only*: the same INSERT into `core.stock_movement` without the API; \
         *plain*: that INSERT into a table of the same shape without triggers (the ceiling). The seed's package claimed \
         about 1 ms of trigger overhead per movement.\n"
    );
    let _ = writeln!(md, "| connections | batch | ledger | rules only | plain | ledger / plain | overhead per movement (ledger, rules only) |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for p in runs {
        let _ = writeln!(
            md,
            "| {} | {} | {:.0}/s | {:.0}/s | {:.0}/s | {:.0}% | {:.0} µs, {:.0} µs |",
            p.connections,
            p.batch,
            p.rate(p.ledger),
            p.rate(p.rules_only),
            p.rate(p.plain),
            p.rate(p.ledger) / p.rate(p.plain) * 100.0,
            p.overhead_us(p.ledger),
            p.overhead_us(p.rules_only),
        );
    }
    let _ = writeln!(md);
}

fn queries(md: &mut String, r: &Report) {
    let products = r.scales.last().map_or(0, |s| s.products);
    let iterations = r.reports.first().map_or(0, |q| q.before.0.len());
    let _ = writeln!(
        md,
        "## Reports at {products} products\n\n{iterations} runs of each, before and after in turn, on two databases with the same data: \
         *before* at version 1 (base tables), *after* at version 4 (indexes and views). SQL: `crates/bench/sql/reports/`.\n"
    );
    let _ = writeln!(md, "| report | seed's claim | before p50 | before p95 | after p50 | after p95 | speed-up (p50) |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for q in r.reports {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {:.1}× |",
            q.name,
            q.claim,
            human(q.before.median()),
            human(q.before.percentile(95.0)),
            human(q.after.median()),
            human(q.after.percentile(95.0)),
            ratio(q.before.median(), q.after.median())
        );
    }
    let _ = writeln!(md);
}

fn memory(md: &mut String, r: &Report) {
    let _ = writeln!(
        md,
        "## Memory\n\nPeak resident set of the `mantis` process (VmHWM, sampled every 5 ms).\n\n| command | products | peak RSS | wall |\n|---|---|---|---|"
    );
    for s in r.scales {
        for (command, kib) in &s.rss {
            let _ = writeln!(
                md,
                "| {command} | {} | {:.1} MB | |",
                s.products,
                *kib as f64 / 1024.0
            );
        }
    }
    for o in r.online {
        let _ = writeln!(
            md,
            "| rehearse --workload ({} server) | {} | {:.1} MB | |",
            server_is(o),
            o.products,
            o.peak_kib as f64 / 1024.0
        );
    }
    let products = r.scales.last().map_or(0, |s| s.products);
    for (command, kib, wall) in r.commands {
        let _ = writeln!(
            md,
            "| {command} | {products} | {:.1} MB | {} |",
            *kib as f64 / 1024.0,
            human(*wall)
        );
    }
    let _ = writeln!(md);
}

/// The housekeeping section (also what `--only housekeeping` prints).
pub fn housekeeping_section(h: &crate::housekeeping::Housekeeping) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## Ledger housekeeping at {} products\n\n\
         {} products × 5 warehouses at the newest migration, {} movements in the ledger of which {} were created in 2025 \
         (receipts of 2 and shipments of 1 in turn on every stock row, at its unit cost, so each row carries a balance). \
         Each command ran while 4 writers posted receipts through the ledger (one line per transaction, 20 ms apart) on \
         random stock rows; *longest posting* is theirs during the command, against their longest in the 3 s before it. \
         Afterwards the checks of 004 (the books) and 005 (the archive) passed.\n",
        h.products, h.products, h.movements, h.old_movements
    );
    let _ = writeln!(md, "| command | time | peak memory | postings meanwhile | longest posting (before) | what it did |");
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for run in &h.runs {
        let _ = writeln!(
            md,
            "| `{}` | {:.1} s | {:.1} MiB | {} | {:.0} ms ({:.0} ms) | {} |",
            run.command,
            run.wall.as_secs_f64(),
            run.peak_kib as f64 / 1024.0,
            run.postings,
            run.longest_ms,
            run.baseline_ms,
            run.result
        );
    }
    let _ = writeln!(md);
    md
}

/// Replaces the section of `path` that starts with `section`'s heading (up
/// to the next `## ` heading) by `section`; appends it when there is none.
pub fn splice(path: &std::path::Path, section: &str) -> anyhow::Result<()> {
    let doc = std::fs::read_to_string(path)?;
    let heading = section.lines().next().unwrap_or_default();
    let key: String = heading.split(" at ").next().unwrap_or(heading).to_string();
    let start = doc
        .match_indices("\n## ")
        .map(|(i, _)| i + 1)
        .find(|&i| doc[i..].starts_with(key.as_str()));
    let spliced = match start {
        Some(start) => {
            let end = doc[start + 3..]
                .find("\n## ")
                .map_or(doc.len(), |i| start + 3 + i + 1);
            format!("{}{section}{}", &doc[..start], &doc[end..])
        }
        None => format!("{doc}\n{section}"),
    };
    std::fs::write(path, spliced)?;
    Ok(())
}
