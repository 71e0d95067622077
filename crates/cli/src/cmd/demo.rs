//! `mantis demo`: the seed's story on a scratch database — migration 001,
//! realistic dirty data, migration 003, the ledger's rules (004), and a
//! summary of what 003 produced.

use anyhow::Result;
use mantis_migrate::{scratch, VerifyRun};
use mantis_schema::summary::Summary;
use mantis_workflows::demo::{self, Demo, DemoEvent};

use crate::args::OutputFormat;
use crate::cmd::{seed, verify};
use crate::context::Context;

pub async fn run(ctx: &Context, database: &str, products: u64) -> Result<()> {
    let migrator = ctx.migrator()?;
    let admin = ctx.session().await?;
    let bar = seed::progress_bar(ctx, products);
    let on = |event: DemoEvent<'_>| match event {
        DemoEvent::Step {
            number,
            what,
            detail,
        } => {
            if !ctx.quiet && ctx.format == OutputFormat::Text {
                bar.suspend(|| eprintln!("[{number}/{}] {what}: {detail}", DemoEvent::STEPS));
            }
        }
        DemoEvent::Seeding(p) => seed::show(&bar, &p),
    };
    let done = demo::demo(
        &migrator,
        &admin,
        &ctx.connect,
        database,
        products,
        ctx.events.clone(),
        &on,
    )
    .await;
    bar.finish_and_clear();
    let done = done?;
    let doc = serde_json::json!({
        "database": database,
        "scratch": done.recreated,
        "baseline": done.baseline.run,
        "seed": { "tables": done.counts.tables, "duration_ms": done.seed_time.as_millis() as u64 },
        "migration": done.fixes.run,
        "ledger": done.ledger.run,
        "summary": done.summary,
        "brand_coverage_pct": done.summary.brand_coverage(),
        "cost_coverage_pct": done.summary.cost_coverage(),
        "verify": done.checked,
    });
    crate::output::emit(ctx.format, &doc, || {
        format!(
            "demo: scratch database \"{database}\" ({})\n{}{}{}{}",
            match done.recreated {
                scratch::Recreated::New => "created",
                scratch::Recreated::Replaced => "re-created",
            },
            render_steps(&done),
            render_summary(&done.summary),
            render_checks(&done.checked),
            render_next(&done.target)
        )
    })?;
    verify::verdict_all(&done.checked)
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
    let Ok(me) = std::env::current_exe()
        .map(|exe| replaced(&exe))
        .and_then(std::fs::canonicalize)
    else {
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

/// The path of this binary even when the file was replaced while it runs
/// (a rebuild): Linux then names it `PATH (deleted)`, and the new file at
/// PATH is the same program.
fn replaced(exe: &std::path::Path) -> std::path::PathBuf {
    exe.to_str()
        .and_then(|p| p.strip_suffix(" (deleted)"))
        .map_or_else(|| exe.to_path_buf(), std::path::PathBuf::from)
}

/// The verdict of the checks of 003 to 006: the success line, or what failed.
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

fn render_steps(done: &Demo) -> String {
    let rows: Vec<String> = done
        .counts
        .tables
        .iter()
        .map(|(t, n)| format!("{n} {}", t.trim_start_matches("core.")))
        .collect();
    format!(
        "  001 core baseline           {:>6.1} s\n  \
           seed                        {:>6.1} s  {}\n  \
           003 critical schema fixes   {:>6.1} s\n  \
           004-006 inventory ledger    {:>6.1} s\n",
        done.baseline.took.as_secs_f64(),
        done.seed_time.as_secs_f64(),
        rows.join(", "),
        done.fixes.took.as_secs_f64(),
        done.ledger.took.as_secs_f64()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_replaced_while_it_runs_is_named_by_its_path() {
        let path = std::path::Path::new("/root/project/target/debug/mantis (deleted)");
        assert_eq!(
            replaced(path),
            std::path::PathBuf::from("/root/project/target/debug/mantis")
        );
        let plain = std::path::Path::new("/usr/local/bin/mantis");
        assert_eq!(replaced(plain), plain.to_path_buf());
    }
}
