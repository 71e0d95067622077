//! `mantis verify`: a migration's checks, grouped by section, with an exit
//! code that tells the truth (0 only when every check passes).

use anyhow::Result;
use mantis_migrate::verify::{CheckResult, Outcome, Severity, VerifyOptions};
use mantis_migrate::VerifyRun;

use crate::args::{CoverageSeverity, OutputFormat, VerifyArgs};
use crate::context::Context;
use crate::exit::Fail;
use crate::{junit, output};

/// The line a passing run ends with (the seed's success line).
pub const SUCCESS_LINE: &str = "MIGRATION SUCCESSFUL - ALL VALIDATIONS PASSED";

/// The coverage checks whose severity `--coverage` sets.
const COVERAGE_CHECKS: &[&str] = &[
    "brand coverage is above the minimum",
    "cost coverage is above the minimum",
];

/// With `--version`: that migration's checks. Without: the whole schema,
/// every applied migration's checks in order (what the database should be
/// now).
pub async fn run(ctx: &Context, args: &VerifyArgs) -> Result<()> {
    let migrator = ctx.migrator()?;
    let session = ctx.session().await?;
    let options = options(args);
    if let Some(version) = args.version {
        let outcome = migrator.verify(&session, Some(version), &options).await?;
        let runs = std::slice::from_ref(&outcome);
        show(ctx, runs, &outcome)?;
        return verdict(&outcome);
    }
    let runs = migrator.verify_schema(&session, &options).await?;
    let passed = runs.iter().all(|r| r.report.passed());
    let doc = serde_json::json!({ "passed": passed, "migrations": runs });
    show(ctx, &runs, &doc)?;
    verdict_all(&runs)
}

/// Writes the runs as text, JUnit XML, or `doc` as JSON.
fn show<T: serde::Serialize>(ctx: &Context, runs: &[VerifyRun], doc: &T) -> Result<()> {
    if ctx.format == OutputFormat::Junit {
        return output::write(&junit::render(runs)?);
    }
    output::emit(ctx.format, doc, || render_all(runs))
}

/// Library options from the command line: thresholds and severities.
pub fn options(args: &VerifyArgs) -> VerifyOptions {
    let severity = match args.coverage {
        CoverageSeverity::Failure => Severity::Failure,
        CoverageSeverity::Warning => Severity::Warning,
    };
    VerifyOptions {
        settings: vec![
            (
                "mantis.min_brand_coverage".into(),
                args.min_brand_coverage.to_string(),
            ),
            (
                "mantis.min_cost_coverage".into(),
                args.min_cost_coverage.to_string(),
            ),
        ],
        severities: COVERAGE_CHECKS
            .iter()
            .map(|name| (name.to_string(), severity))
            .collect(),
    }
}

/// Exit code 8 when a check failed.
pub fn verdict(outcome: &VerifyRun) -> Result<()> {
    verdict_all(std::slice::from_ref(outcome))
}

/// Exit code 8 when a check of any of the runs failed.
pub fn verdict_all(outcomes: &[VerifyRun]) -> Result<()> {
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.report.failures().count() > 0)
        .map(|o| {
            format!(
                "{} of {} check(s) of migration {:03} failed",
                o.report.failures().count(),
                o.report.checks().count(),
                o.version
            )
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Fail::checks(failed.join("; ")))
}

/// The text report of several suites (the whole schema): each with its
/// sections and warnings, then one verdict over all of them.
pub fn render_all(runs: &[VerifyRun]) -> String {
    let mut out: String = runs.iter().map(render_suite).collect::<Vec<_>>().join("\n");
    let failures: Vec<&CheckResult> = runs.iter().flat_map(|r| r.report.failures()).collect();
    if failures.is_empty() {
        out.push_str(SUCCESS_LINE);
        out.push('\n');
        return out;
    }
    let checks: usize = runs.iter().map(|r| r.report.checks().count()).sum();
    out.push_str(&format!(
        "VALIDATION FAILED - {} of {checks} check(s) failed:\n",
        failures.len()
    ));
    for run in runs {
        for f in run.report.failures() {
            let prefix = if runs.len() > 1 {
                format!("{:03} ", run.version)
            } else {
                String::new()
            };
            out.push_str(&format!("  {prefix}{}\n", f.describe()));
        }
    }
    out
}

/// One suite: its header, sections with one line per check, its warnings.
fn render_suite(outcome: &VerifyRun) -> String {
    let report = &outcome.report;
    let mut out = format!(
        "checks of {:03}_{} ({}){}\n",
        outcome.version,
        outcome.name,
        report.file,
        if outcome.applied {
            String::new()
        } else {
            format!(
                "\nmigration {:03} is not applied: the database is at version {}",
                outcome.version,
                output::version(outcome.current)
            )
        }
    );
    let mut section = None;
    for result in &report.results {
        if section != Some(&result.check.section) {
            section = Some(&result.check.section);
            out.push_str(&format!("\n{}\n", result.check.section));
        }
        out.push_str(&line(result));
    }
    out.push('\n');
    let warnings: Vec<&CheckResult> = report.warnings().collect();
    if !warnings.is_empty() {
        out.push_str("warnings:\n");
        for w in warnings {
            out.push_str(&format!("  {}\n", w.describe()));
        }
    }
    out
}

fn line(result: &CheckResult) -> String {
    let name = &result.check.name;
    match &result.outcome {
        Outcome::Info { columns, rows } => rows
            .iter()
            .map(|r| {
                format!(
                    "  {name}: {}\n",
                    mantis_migrate::verify::render_row(columns, r)
                )
            })
            .collect(),
        Outcome::Passed => format!("  ok    {name}\n"),
        Outcome::Skipped { reason } => format!("  skip  {name}\n        {reason}\n"),
        _ => {
            let mark = if result.fails_suite() { "FAIL" } else { "WARN" };
            format!(
                "  {mark}  {name}\n        {}\n",
                result.finding().unwrap_or_default()
            )
        }
    }
}
