//! `mantis up`, `mantis down` and `mantis plan`: one engine loop, three views.

use anyhow::Result;
use mantis_migrate::{Direction, RunReport, Target};

use crate::context::Context;
use crate::output;

pub async fn run(ctx: &Context, direction: Direction, target: Target, dry_run: bool) -> Result<()> {
    let migrator = ctx.migrator()?;
    let session = ctx.session().await?;
    let report = if dry_run {
        migrator.plan(&session, direction, target).await?
    } else {
        migrator.run(&session, direction, target).await?
    };
    output::emit(ctx.format, &report, || {
        if dry_run {
            render_plan(&report)
        } else {
            format!("{}\n", summary(&report))
        }
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
