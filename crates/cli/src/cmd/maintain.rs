//! `mantis maintain [--only TASK,…] [--no-rebuild] [--every 1d]`: the seed's
//! maintenance schedule. One run prints a report (text, or one JSON
//! document); with --every, one report per run (JSON Lines with --format
//! json) until Ctrl-C.

use std::fmt::Write as _;

use anyhow::Result;
use mantis_inventory::maintain::{self, Maintained, Tasks};

use crate::args::{MaintainArgs, MaintainTask, OutputFormat};
use crate::cmd::books;
use crate::context::Context;
use crate::exit::Fail;
use crate::output;

pub async fn run(ctx: &Context, args: &MaintainArgs) -> Result<()> {
    let client = books::client(ctx, books::LEDGER, "maintain").await?;
    let tasks = tasks(args);
    let Some(every) = args.every else {
        let done = maintain::run(&client, tasks, args.lock_timeout).await?;
        return output::emit(ctx.format, &done, || text(&done));
    };
    if every.is_zero() {
        return Err(Fail::usage("--every must be longer than 0s"));
    }
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => {
                let done = maintain::run(&client, tasks, args.lock_timeout).await?;
                match ctx.format {
                    OutputFormat::Json => output::write(&format!("{}\n", serde_json::to_string(&done)?))?,
                    _ => output::write(&text(&done))?,
                }
            }
        }
    }
    eprintln!("maintain: stopped (interrupted)");
    Ok(())
}

fn tasks(args: &MaintainArgs) -> Tasks {
    let on = |t: MaintainTask| args.only.is_empty() || args.only.contains(&t);
    Tasks {
        analyze: on(MaintainTask::Analyze),
        indexes: on(MaintainTask::Indexes),
        rebuild: on(MaintainTask::Indexes) && !args.no_rebuild,
        growth: on(MaintainTask::Growth),
        audit: on(MaintainTask::Audit),
    }
}

fn text(done: &Maintained) -> String {
    let mut out = String::new();
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    let _ = writeln!(out, "maintain {now} ({:.1?})", done.elapsed);
    if !done.analyzed.is_empty() {
        let skipped: Vec<String> = done
            .analyzed
            .iter()
            .filter_map(|s| {
                s.skipped
                    .as_ref()
                    .map(|why| format!("{} ({why})", s.object))
            })
            .collect();
        let _ = writeln!(
            out,
            "analyze: {} table(s) analyzed{}",
            done.analyzed.len() - skipped.len(),
            if skipped.is_empty() {
                String::new()
            } else {
                format!("; skipped: {}", skipped.join(", "))
            }
        );
    }
    indexes(&mut out, done);
    growth(&mut out, done);
    audit(&mut out, done);
    for s in &done.skipped {
        let why = s.skipped.as_deref().unwrap_or_default();
        let _ = writeln!(out, "{}: {why}", s.object);
    }
    out
}

fn indexes(out: &mut String, done: &Maintained) {
    if done.invalid_indexes.is_empty() {
        let _ = writeln!(out, "invalid indexes: none");
    }
    for i in &done.invalid_indexes {
        let _ = writeln!(
            out,
            "invalid index {} on {}: {}",
            i.index, i.table, i.outcome
        );
    }
}

fn growth(out: &mut String, done: &Maintained) {
    if !done.tables.is_empty() {
        let _ = writeln!(
            out,
            "tables (largest first): rows, table + indexes, dead rows"
        );
        for t in &done.tables {
            let estimated = t
                .estimated
                .as_ref()
                .map(|why| format!("  (size estimated: {why})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<34} {:>12} {:>10} + {:>10} {:>10}{estimated}",
                t.table,
                t.rows_estimate,
                bytes(t.table_bytes),
                bytes(t.index_bytes),
                t.dead_rows
            );
        }
    }
    if !done.movements_per_month.is_empty() {
        let _ = writeln!(out, "movements per month: hot, archived");
        for m in &done.movements_per_month {
            let _ = writeln!(out, "  {} {:>10} {:>10}", m.month, m.hot, m.archived);
        }
    }
}

fn audit(out: &mut String, done: &Maintained) {
    let Some(a) = &done.audit else { return };
    let _ = writeln!(
        out,
        "audit: {} product(s) without brand, {} stock row(s) without cost, {} contact issue(s), \
         {} supplier(s) without contact, {} dangling legacy brand id(s), {} low-stock row(s), stock value {}",
        a.products_without_brand,
        a.stock_without_cost,
        a.contact_issues,
        a.suppliers_without_contact,
        a.dangling_legacy_brand_ids,
        a.low_stock_rows,
        a.stock_value.round_dp(2)
    );
    for group in &a.brands_alike {
        let names: Vec<String> = group
            .brands
            .iter()
            .map(|b| format!("{:?} ({} products)", b.name, b.products))
            .collect();
        let _ = writeln!(out, "brands alike ({}): {}", group.why, names.join(", "));
        for command in &group.merge {
            let _ = writeln!(out, "  {command}");
        }
    }
}

fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
