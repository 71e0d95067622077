//! `mantis rehearse`: the pending migrations on a copy, measured.

use anyhow::Result;
use mantis_migrate::rehearse::{self, Options, Rehearsal, StatementReport};

use crate::args::Format;
use crate::context::Context;
use crate::exit::Fail;
use crate::output;

pub async fn run(ctx: &Context, options: &Options) -> Result<()> {
    let set = ctx.migration_set()?;
    let run_options = ctx.run.clone();
    let found = rehearse::rehearse(
        move |sink| mantis_migrate::Migrator::new(set, run_options, sink),
        &ctx.connect,
        options,
        ctx.events.clone(),
    )
    .await?;
    match ctx.format {
        Format::Json => output::json(&found)?,
        Format::Text => print!("{}", render(&found)),
    }
    match &found.run {
        Ok(_) => Ok(()),
        Err(e) => Err(Fail::migration_failed(format!(
            "the rehearsal stopped: {e}\n(the target was not touched; the report above shows what ran on the copy)"
        ))),
    }
}

fn render(r: &Rehearsal) -> String {
    let mut out = format!(
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
    );
    out.push_str(&format!(
        "{:<18} {:>9} {:>12} {:>12}  {}\n",
        "statement", "ms", "reader wait", "writer wait", "sql / locks held on existing tables"
    ));
    for s in &r.statements {
        out.push_str(&line(s));
    }
    out.push_str("\nprobes (a query every 20 ms on its own connection):\n");
    for p in &r.probes {
        out.push_str(&format!(
            "  {:<6} {:<28} {:>6} queries, normally {:>6} µs, longest {:>7} ms{}{}\n",
            format!("{:?}", p.kind).to_lowercase(),
            p.table,
            p.queries,
            p.baseline_us,
            p.longest_ms,
            p.during
                .as_ref()
                .map(|d| format!(" during {d}"))
                .unwrap_or_default(),
            p.error
                .as_ref()
                .map(|e| format!(" (stopped: {e})"))
                .unwrap_or_default()
        ));
    }
    out.push_str(&format!(
        "\nlocks are sampled every {} ms: a statement shorter than that may show none.\n",
        r.sample_every.as_millis()
    ));
    out
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
        format!("\n{:<56}locks: {locks}", "")
    };
    format!(
        "{:<18} {:>9} {:>12} {:>12}  {}{locks}\n",
        s.label(),
        s.duration
            .map_or("FAILED".to_string(), |d| d.as_millis().to_string()),
        wait(&s.reader_wait),
        wait(&s.writer_wait),
        s.sql
    )
}
