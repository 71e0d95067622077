//! `mantis demo`: the seed's story on a scratch database — migration 001,
//! realistic dirty data, migration 003, the ledger's rules (004), and a
//! summary of what 003 produced.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use mantis_datagen::{Counts, Spec};
use mantis_migrate::verify::VerifyOptions;
use mantis_migrate::{scratch, Direction, RunReport, VerifyRun};
use mantis_schema::summary::{self, Summary};

use crate::args::Format;
use crate::cmd::{seed, verify};
use crate::context::Context;

/// The mark on databases made by `mantis demo`; only those are ever replaced.
const MARK: &str = "mantis demo scratch database";
/// The baseline the seed's package was written against.
const BASELINE: u64 = 1;
/// The seed's migration: critical schema fixes.
const FIXES: u64 = 3;

pub async fn run(ctx: &Context, database: &str, products: u64) -> Result<()> {
    let migrator = ctx.migrator()?;
    let admin = ctx.session().await?;
    step(ctx, 1, "scratch database", database);
    let recreated = scratch::recreate(&admin, database, MARK).await?;
    drop(admin);
    let options = ctx.connect.with_dbname(database);
    let session = ctx.session_to(&options).await?;

    step(ctx, 2, "migration 001", "the core schema before 003");
    let baseline = timed(migrator.run(&session, Direction::Up, Some(BASELINE), false)).await?;
    let spec = Spec {
        products,
        ..Spec::default()
    };
    step(
        ctx,
        3,
        "seed",
        &format!("{products} products with real-world dirt"),
    );
    let (counts, seed_time) = seed::load(ctx, &session, &spec).await?;
    step(
        ctx,
        4,
        "migration 003",
        "critical schema fixes, with backfills",
    );
    let fixes = timed(migrator.run(&session, Direction::Up, Some(FIXES), false)).await?;
    step(ctx, 5, "migration 004", "the inventory ledger's rules");
    let ledger = timed(migrator.run(&session, Direction::Up, None, false)).await?;
    let mut checked =
        verify::applied_in(&migrator, &session, &fixes.0, &VerifyOptions::default()).await?;
    checked.extend(
        verify::applied_in(&migrator, &session, &ledger.0, &VerifyOptions::default()).await?,
    );
    let summary = summary::read(session.client())
        .await
        .context("reading what 003 produced")?;
    match ctx.format {
        Format::Json => crate::output::json(&serde_json::json!({
            "database": database,
            "scratch": recreated,
            "baseline": baseline.0,
            "seed": { "tables": counts.tables, "duration_ms": seed_time.as_millis() as u64 },
            "migration": fixes.0,
            "ledger": ledger.0,
            "summary": summary,
            "brand_coverage_pct": summary.brand_coverage(),
            "cost_coverage_pct": summary.cost_coverage(),
            "verify": checked,
        }))?,
        Format::Text => {
            println!(
                "demo: scratch database \"{database}\" ({})",
                match recreated {
                    scratch::Recreated::New => "created",
                    scratch::Recreated::Replaced => "re-created",
                }
            );
            print!(
                "{}",
                render_steps(&baseline, &counts, seed_time, &fixes, &ledger)
            );
            print!("{}", render_summary(&summary));
            print!("{}", render_checks(&checked));
            print!("{}", render_next(&options));
        }
    }
    verify::verdict_all(&checked)
}

/// Commands to try next, runnable as printed: the binary by the name the
/// shell finds it under (else its full path), the URL of the demo database
/// without its password (which then comes from PGPASSWORD or ~/.pgpass).
fn render_next(options: &mantis_migrate::ConnectOptions) -> String {
    let url = mantis_migrate::ConnectOptions {
        password: None,
        ..options.clone()
    }
    .masked();
    let exe = invocation();
    let mut out = String::from("\nnext, on the demo database:\n");
    for command in ["report valuation", "report low-stock", "stock levels"] {
        out.push_str(&format!("  {exe} --database-url '{url}' {command}\n"));
    }
    if options.password.is_some() {
        out.push_str("  (the password: set PGPASSWORD, or put it in ~/.pgpass)\n");
    }
    out.push_str("every command: README.md, \"Commands\"; the inventory books: docs/ledger.md\n");
    out
}

/// `mantis` when that name on PATH is this binary, else this binary's path.
fn invocation() -> String {
    let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return "mantis".into();
    };
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .filter_map(|dir| std::fs::canonicalize(dir.join("mantis")).ok())
            .next()
            .is_some_and(|found| found == me)
    });
    if on_path {
        "mantis".into()
    } else {
        me.display().to_string()
    }
}

/// The verdict of the checks of 003 and 004: the success line, or what failed.
fn render_checks(checked: &[VerifyRun]) -> String {
    let reports = checked.iter().map(|c| &c.report);
    let checks: usize = reports.clone().map(|r| r.checks().count()).sum();
    let failures: Vec<String> = reports
        .clone()
        .flat_map(|r| r.failures())
        .map(|r| format!("  {}\n", r.describe()))
        .collect();
    let mut sections: Vec<&str> = reports
        .flat_map(|r| r.results.iter())
        .map(|r| r.check.section.as_str())
        .collect();
    sections.dedup();
    let migrations: Vec<String> = checked
        .iter()
        .map(|c| format!("{:03}", c.version))
        .collect();
    if failures.is_empty() {
        format!(
            "\nmantis verify: {checks} checks in {} sections of {} passed\n{}\n",
            sections.len(),
            migrations.join(" and "),
            verify::SUCCESS_LINE
        )
    } else {
        format!(
            "\nmantis verify: {} of {checks} checks failed:\n{}",
            failures.len(),
            failures.concat()
        )
    }
}

fn step(ctx: &Context, n: u32, what: &str, detail: &str) {
    if !ctx.quiet && ctx.format == Format::Text {
        eprintln!("[{n}/5] {what}: {detail}");
    }
}

async fn timed<F>(run: F) -> Result<(RunReport, Duration)>
where
    F: std::future::Future<Output = Result<RunReport, mantis_migrate::Error>>,
{
    let started = Instant::now();
    let report = run.await?;
    Ok((report, started.elapsed()))
}

fn render_steps(
    baseline: &(RunReport, Duration),
    counts: &Counts,
    seed_time: Duration,
    fixes: &(RunReport, Duration),
    ledger: &(RunReport, Duration),
) -> String {
    let rows: Vec<String> = counts
        .tables
        .iter()
        .map(|(t, n)| format!("{n} {}", t.trim_start_matches("core.")))
        .collect();
    format!(
        "  001 core baseline           {:>6.1} s\n  \
           seed                        {:>6.1} s  {}\n  \
           003 critical schema fixes   {:>6.1} s\n  \
           004 inventory ledger        {:>6.1} s\n",
        baseline.1.as_secs_f64(),
        seed_time.as_secs_f64(),
        rows.join(", "),
        fixes.1.as_secs_f64(),
        ledger.1.as_secs_f64()
    )
}

/// What 003 produced, beside the seed's own success bars.
pub fn render_summary(s: &Summary) -> String {
    let mut out = String::from("\nwhat 003 produced:\n");
    let mut line = |label: &str, value: String| {
        out.push_str(&format!("  {label:<28} {value}\n"));
    };
    line(
        "brands created",
        format!(
            "{} (from {} products with brand text)",
            s.brands, s.products_with_brand_text
        ),
    );
    line(
        "products with a brand",
        format!(
            "{} of {} ({}%; the seed's bar: > 50%)",
            s.products_with_brand,
            s.products,
            s.brand_coverage()
        ),
    );
    line(
        "suppliers with an email",
        format!("{} of {}", s.suppliers_with_email, s.suppliers),
    );
    line(
        "invalid contact values",
        format!(
            "{} kept in metadata, listed in core.supplier_contact_issue",
            s.contact_issues
        ),
    );
    line(
        "cost coverage",
        format!(
            "{} of {} stock rows in stock ({}%; the seed's bar: > 70%)",
            s.stock_rows_costed,
            s.stock_rows_in_stock,
            s.cost_coverage()
        ),
    );
    line("opening-balance movements", s.movements.to_string());
    line(
        "legacy brand ids resolved",
        format!("{} (listed in core.product_brand_issue)", s.brand_id_issues),
    );
    line("stock value", s.stock_value.round_dp(2).to_string());
    for (view, rows) in &s.views {
        line(&format!("core.{view}"), format!("{rows} rows"));
    }
    out
}
