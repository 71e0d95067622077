//! `mantis up`, `mantis down` and `mantis plan`: one engine loop, three views.

use anyhow::Result;
use mantis_migrate::{Direction, RunReport, Session, Target};
use serde::Serialize;

use crate::cmd::lint;
use crate::context::Context;
use crate::output;

pub async fn run(ctx: &Context, direction: Direction, target: Target, dry_run: bool) -> Result<()> {
    let migrator = ctx.migrator()?;
    let session = ctx.session().await?;
    if dry_run {
        let report = migrator.plan(&session, direction, target).await?;
        return show_plan(ctx, &session, &report).await;
    }
    let report = migrator.run(&session, direction, target).await?;
    output::emit(ctx.format, &report, || format!("{}\n", summary(&report)))
}

/// A plan with the lint of the files it runs.
#[derive(Serialize)]
struct PlanDocument<'a> {
    #[serde(flatten)]
    report: &'a RunReport,
    lint: mantis_lint::Report,
    /// The standbys batches will wait for, and the replication slots.
    replication: Vec<mantis_migrate::preflight::Finding>,
}

/// The plan, then what lint finds in the files it would run, its lock
/// hazards weighed by the live tables.
async fn show_plan(ctx: &Context, session: &Session, report: &RunReport) -> Result<()> {
    let found =
        mantis_workflows::lint::lint_plan(&report.plan, &lint::set_options(ctx)?, session.client())
            .await?;
    let doc = PlanDocument {
        report,
        lint: found,
        replication: mantis_migrate::preflight::replication(session).await?,
    };
    output::emit(ctx.format, &doc, || {
        let mut text = render_plan(report);
        if !report.plan.steps.is_empty() {
            text.push_str(&format!(
                "\nlint of the files to run: {}\n{}",
                lint::counts(&doc.lint),
                lint::render_findings(&doc.lint.findings)
            ));
        }
        if !doc.lint.locks.is_empty() {
            text.push_str(&format!(
                "\nlocks on tables that exist now (what other sessions may wait for):\n{}",
                lint::render_locks(&doc.lint.locks)
            ));
        }
        if !report.plan.steps.is_empty() {
            text.push('\n');
            text.push_str(&crate::cmd::deploy::replication_lines(&doc.replication));
        }
        text
    })
}

/// The plan, with each step's SQL.
pub fn render_plan(report: &RunReport) -> String {
    let plan = &report.plan;
    if plan.steps.is_empty() {
        return format!(
            "nothing to do: the database is at version {}\n",
            output::version(plan.current)
        );
    }
    let mut out = format!(
        "plan: {} from version {} to {} ({} migration(s))\n",
        plan.direction,
        output::version(plan.current),
        output::version(plan.target),
        plan.steps.len()
    );
    for step in &plan.steps {
        let mode = if step.transactional {
            "one transaction"
        } else {
            "no transaction"
        };
        let resume = if step.resume_at > 0 {
            format!(", resumes at statement {}", step.resume_at + 1)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "\n-- {} {:03}_{} ({mode}, {} statement(s){resume}) from {}\n{}\n",
            step.direction,
            step.version,
            step.name,
            step.statements,
            step.file,
            step.sql.trim_end()
        ));
    }
    out
}

/// One line saying what changed.
pub fn summary(report: &RunReport) -> String {
    let after = output::version(report.version_after);
    match (report.completed.len(), report.plan.direction) {
        (0, _) => format!("up to date: the database is at version {after}"),
        (n, Direction::Up) => {
            format!("applied {n} migration(s); the database is at version {after}")
        }
        (n, Direction::Down) => {
            format!("reverted {n} migration(s); the database is at version {after}")
        }
    }
}
