//! `mantis status`.

use anyhow::Result;
use mantis_migrate::{Direction, MigrationState, StatusReport};

use crate::context::Context;
use crate::output;

pub async fn run(ctx: &Context) -> Result<()> {
    let migrator = ctx.migrator()?;
    let session = ctx.session().await?;
    let report = migrator.status(&session).await?;
    output::emit(ctx.format, &report, || render(&report))
}

/// The text form of a status report.
pub fn render(report: &StatusReport) -> String {
    let pending = match &report.partial {
        Some(p) if p.direction == Direction::Up => {
            format!("{} to apply, {:03} half-done", report.pending, p.version)
        }
        _ => format!("{} pending", report.pending),
    };
    let mut out = format!(
        "database:   {}\nmigrations: {} (latest {})\nversion:    {} ({pending})\n\n",
        report.target,
        report.origin,
        output::version(report.latest),
        output::version(report.current),
    );
    out.push_str(&format!(
        "{:<8} {:<32} {:<8} {:<24} {:<12} {:>9}  {}\n",
        "VERSION", "NAME", "STATE", "APPLIED AT", "BY", "DURATION", "MODE"
    ));
    for e in &report.entries {
        let (at, by, ms, mode) = match &e.applied {
            Some(a) => (
                a.applied_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                a.applied_by.clone(),
                format!("{} ms", a.duration_ms),
                a.mode.clone(),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        out.push_str(&format!(
            "{:<8} {:<32} {:<8} {:<24} {:<12} {:>9}  {}\n",
            format!("{:03}", e.version),
            e.name,
            state_word(e.state),
            at,
            by,
            ms,
            mode
        ));
    }
    out.push_str(&explanations(report));
    out
}

fn state_word(state: MigrationState) -> &'static str {
    match state {
        MigrationState::Applied => "applied",
        MigrationState::Pending => "pending",
        MigrationState::Partial => "PARTIAL",
        MigrationState::Changed => "CHANGED",
        MigrationState::Missing => "MISSING",
    }
}

fn explanations(report: &StatusReport) -> String {
    let mut out = String::new();
    if let Some(p) = &report.partial {
        out.push_str(&format!(
            "\n{:03}_{} stopped during `{}` after {} of {} statements (started {} by {}){}.\n\
             It runs without a transaction, so those statements are committed. \
             `mantis {}` resumes at statement {}.\n",
            p.version,
            p.name,
            p.direction,
            p.statements_done,
            p.statements_total,
            p.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            p.started_by,
            p.last_error
                .as_ref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default(),
            p.direction,
            p.statements_done + 1
        ));
    }
    for e in &report.entries {
        match e.state {
            MigrationState::Changed => out.push_str(&format!(
                "\n{:03}_{}: the file changed after it was applied (applied {}, local {}); restore it.\n",
                e.version,
                e.name,
                e.applied.as_ref().map_or("", |a| a.checksum.as_str()),
                e.local_checksum.as_deref().unwrap_or("")
            )),
            MigrationState::Missing => out.push_str(&format!(
                "\n{:03}_{}: applied but not in {}.\n",
                e.version, e.name, report.origin
            )),
            _ => {}
        }
    }
    out
}
