//! `mantis rehearse`: the pending migrations on a copy, measured.

use anyhow::Result;
use mantis_migrate::preflight::Finding;
use mantis_migrate::rehearse::{
    self, Options, ProbeSummary, Rehearsal, RolesReport, StatementReport, WorkloadSummary,
};

use crate::args::RehearseArgs;
use crate::context::Context;
use crate::exit::{ExitCode, Fail};
use crate::output;
use serde::Serialize;

pub async fn run(ctx: &Context, args: &RehearseArgs) -> Result<()> {
    let options = Options {
        to: args.target.target(),
        copy: args.copy.choice(),
        keep: args.keep,
        probes: args.probes.clone(),
        tools: args.tools.tools(),
        workload: crate::workload::hook(&args.workload),
        max_wait: args.max_wait,
        max_stall: args.max_stall,
        ..Default::default()
    };
    // A transaction-mode pooler is refused before anything is copied; the
    // copy's WAL goes to the same standbys and slots as the database's.
    let replication = mantis_migrate::preflight::replication(&ctx.session().await?).await?;
    let set = ctx.migration_set()?;
    let run_options = ctx.run.clone();
    let found = rehearse::rehearse(
        move |sink| mantis_migrate::Migrator::new(set, run_options, sink),
        &ctx.connect,
        &options,
        ctx.events.clone(),
    )
    .await?;
    let doc = RehearsalDocument {
        rehearsal: &found,
        replication,
    };
    output::emit(ctx.format, &doc, || render(&doc))?;
    if let Err(e) = &found.run {
        // The exit code of what stopped it (refused 5, lock 7, statement 6).
        return Err(Fail {
            code: ExitCode::of(&e.0),
            message: format!(
                "the rehearsal stopped: {e}\n(the target was not touched; the report above shows what ran on the copy)"
            ),
        }
        .into());
    }
    let Some(gate) = &found.gate else {
        return Ok(());
    };
    if gate.passed() {
        eprintln!(
            "gate passed: no probe or workload operation waited longer than {:?} beyond the server-wide stalls, and no role lost a privilege",
            gate.max_wait
        );
        if !gate.stalls.is_empty() {
            eprintln!(
                "server-wide stalls over {:?} (a commit touching no table was stuck as long; not judged):\n  {}",
                gate.max_wait,
                gate.stalls.join("\n  ")
            );
        }
        return Ok(());
    }
    Err(Fail::checks(format!(
        "the rehearsal exceeded --max-wait {:?}:\n  {}",
        gate.max_wait,
        gate.over.join("\n  ")
    )))
}

fn render_workload(w: &WorkloadSummary) -> String {
    let mut out = format!(
        "\nworkload: {} operations ({} refused by a rule, {} failed)\n  \
         latency before: p50 {:.1} ms, p99 {:.1} ms; during: p50 {:.1} ms, p99 {:.1} ms, longest {:.1} ms{}, \
         longest beyond the server-wide stalls {:.1} ms\n",
        w.operations,
        w.refused,
        w.failed,
        w.baseline_p50_ms,
        w.baseline_p99_ms,
        w.during_p50_ms,
        w.during_p99_ms,
        w.during_max_ms,
        w.slowest_waiting_on
            .as_ref()
            .map(|e| format!(" (waiting on {e})"))
            .unwrap_or_default(),
        w.during_max_beyond_stalls_ms
    );
    for f in &w.failures {
        out.push_str(&format!("  failed: {f}\n"));
    }
    if let Some(e) = &w.error {
        out.push_str(&format!("  could not run: {e}\n"));
    }
    for i in &w.invariants {
        out.push_str(&format!(
            "  {} {} ({} rows{})\n",
            if i.violations == 0 {
                "holds:"
            } else {
                "BROKEN:"
            },
            i.name,
            i.rows,
            if i.violations == 0 {
                String::new()
            } else {
                format!(", {} violating", i.violations)
            }
        ));
    }
    out
}

fn render_roles(r: &RolesReport) -> String {
    if r.roles.is_empty() {
        return "\nroles: none but the owners hold privileges\n".into();
    }
    let mut out = format!("\nroles (privileges held before): {}\n", r.roles.join("; "));
    if r.lost.is_empty() {
        out.push_str("  every privilege they held they still hold\n");
    }
    for lost in &r.lost {
        out.push_str(&format!("  LOST: {lost}\n"));
    }
    for relation in &r.new_without_grants {
        out.push_str(&format!(
            "  new, and none of them may use it: {relation} (grant what its users need)\n"
        ));
    }
    out
}

/// A rehearsal with the standbys and slots its copy's WAL went to.
#[derive(Serialize)]
struct RehearsalDocument<'a> {
    #[serde(flatten)]
    rehearsal: &'a Rehearsal,
    /// The standbys batches waited for, and the replication slots.
    replication: Vec<Finding>,
}

fn render(doc: &RehearsalDocument<'_>) -> String {
    let r = doc.rehearsal;
    let mut out = heading(r);
    out.push_str(&crate::cmd::deploy::replication_lines(&doc.replication));
    out.push('\n');
    out.push_str(&format!(
        "{:<18} {:>9} {:>9} {:>12} {:>12}  {}\n",
        "statement",
        "ms",
        "WAL MB",
        "reader wait",
        "writer wait",
        "sql / locks held on existing tables"
    ));
    for s in &r.statements {
        out.push_str(&line(s));
    }
    out.push_str(&wal_totals(&r.statements));
    out.push_str(
        "\nprobes (a query every 20 ms on its own connection; writers update a random row each time; \
         the control commits touching no table, so its waits are the server's own stalls):\n",
    );
    for p in &r.probes {
        out.push_str(&probe_line(p));
    }
    if let Some(w) = &r.workload {
        out.push_str(&render_workload(w));
    }
    out.push_str(&render_roles(&r.roles));
    out.push_str(&format!(
        "\nlocks are sampled every {} ms: a statement shorter than that may show none.\n",
        r.sample_every.as_millis()
    ));
    out
}

/// Which copy the rehearsal ran on, and whether it was kept.
fn heading(r: &Rehearsal) -> String {
    format!(
        "rehearsal on {} ({} copy of {} MB in {:.1} s{})\n\n",
        r.copy.database,
        match r.copy.method {
            rehearse::CopyMethod::Template => "template",
            rehearse::CopyMethod::Dump => "pg_dump/pg_restore",
        },
        r.copy.size_bytes / 1_000_000,
        r.copy.duration.as_secs_f64(),
        if r.kept {
            ", kept"
        } else {
            ", dropped afterwards"
        }
    )
}

/// One probe: its normal latency, its longest wait (in full, and beyond the
/// server-wide stalls) and what it waited on.
fn probe_line(p: &ProbeSummary) -> String {
    let table = match p.kind {
        rehearse::ProbeKind::Control => "(a commit, no table)",
        _ => p.table.as_str(),
    };
    format!(
        "  {:<7} {:<28} {:>6} queries, normally {:>6} µs, longest {:>7} ms{}{}{}\n",
        p.kind.name(),
        table,
        p.queries,
        p.baseline_us,
        p.longest_ms,
        p.beyond_stalls
            .as_ref()
            .map(|own| format!(" ({} ms beyond the stalls)", own.ms))
            .unwrap_or_default(),
        p.circumstances(),
        p.error
            .as_ref()
            .map(|e| format!(" (stopped: {e})"))
            .unwrap_or_default()
    )
}

/// WAL written while each migration ran (every session's), and the
/// full-page images among it where the server counts them.
fn wal_totals(statements: &[StatementReport]) -> String {
    let bytes = per_migration(statements, |s| s.wal_bytes);
    if bytes.is_empty() {
        return String::new();
    }
    let each: Vec<String> = bytes
        .iter()
        .map(|(v, b)| format!("{v:03} {:.1} MB", *b as f64 / 1e6))
        .collect();
    let images = per_migration(statements, |s| s.fpi);
    let images = if images.is_empty() {
        String::new()
    } else {
        let each: Vec<String> = images.iter().map(|(v, n)| format!("{v:03} {n}")).collect();
        format!(
            "full-page images among it (pg_stat_wal): {}\n",
            each.join(", ")
        )
    };
    format!(
        "WAL written while each migration ran (all sessions): {}\n{images}{}",
        each.join(", "),
        standby_lag(statements)
    )
}

/// `value` summed per migration, in order; migrations without any left out.
fn per_migration(
    statements: &[StatementReport],
    value: impl Fn(&StatementReport) -> Option<u64>,
) -> Vec<(u64, u64)> {
    let mut totals: Vec<(u64, u64)> = Vec::new();
    for s in statements {
        let Some(n) = value(s) else { continue };
        match totals.last_mut() {
            Some((version, sum)) if *version == s.version => *sum += n,
            _ => totals.push((s.version, n)),
        }
    }
    totals
}

/// How far the standbys fell behind: the furthest, and during what.
fn standby_lag(statements: &[StatementReport]) -> String {
    let furthest = statements
        .iter()
        .filter_map(|s| s.standby_behind_bytes.map(|b| (b, s)))
        .max_by_key(|(b, _)| *b);
    match furthest {
        Some((bytes, s)) => format!(
            "standbys: furthest behind {} (WAL not yet replayed) during {}\n",
            mantis_migrate::batch::bytes(bytes),
            s.label()
        ),
        None => String::new(),
    }
}

fn line(s: &StatementReport) -> String {
    let locks = if s.locks.is_empty() {
        "-".to_string()
    } else {
        s.locks
            .iter()
            .map(|(t, m)| format!("{t}: {}", m.trim_end_matches("Lock")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let wait = |w: &Option<(String, u64)>| {
        w.as_ref()
            .map_or("-".to_string(), |(_, ms)| format!("{ms} ms"))
    };
    let locks = if locks == "-" {
        String::new()
    } else {
        format!("\n{:<66}locks: {locks}", "")
    };
    format!(
        "{:<18} {:>9} {:>9} {:>12} {:>12}  {}{locks}\n",
        s.label(),
        s.duration
            .map_or("FAILED".to_string(), |d| d.as_millis().to_string()),
        s.wal_bytes
            .map_or("-".to_string(), |b| format!("{:.1}", b as f64 / 1e6)),
        wait(&s.reader_wait),
        wait(&s.writer_wait),
        s.sql
    )
}
