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
    let mut rows = vec![HEADER.map(String::from)];
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
        rows.push([
            format!("{:03}", e.version),
            e.name.clone(),
            state_word(e.state).to_string(),
            at,
            by,
            ms,
            mode,
        ]);
    }
    out.push_str(&table(&rows));
    out.push_str(&explanations(report));
    out
}

const HEADER: [&str; 7] = [
    "VERSION",
    "NAME",
    "STATE",
    "APPLIED AT",
    "BY",
    "DURATION",
    "MODE",
];

/// The narrowest each column is; a longer value (a 14-digit version, a long
/// name) widens its column, so the columns stay aligned.
const MIN_WIDTHS: [usize; 7] = [8, 32, 8, 24, 12, 9, 0];

/// The rows as aligned columns (DURATION to the right), two spaces before MODE.
fn table(rows: &[[String; 7]]) -> String {
    let mut widths = MIN_WIDTHS;
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        out.push_str(&format!(
            "{:<w0$} {:<w1$} {:<w2$} {:<w3$} {:<w4$} {:>w5$}  {}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
            w5 = widths[5],
        ));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_widen_their_column_and_the_rest_stay_aligned() {
        let row = |v: &str, name: &str| {
            [
                v,
                name,
                "applied",
                "2026-01-01 00:00:00 UTC",
                "me",
                "5 ms",
                "transaction",
            ]
            .map(String::from)
        };
        let text = table(&[
            HEADER.map(String::from),
            row(
                "20240101120000",
                "a_name_far_longer_than_thirty_two_characters_in_all",
            ),
            row("001", "short"),
        ]);
        let starts: Vec<usize> = text
            .lines()
            .skip(1)
            .map(|l| l.find("transaction").unwrap_or(0))
            .collect();
        assert_eq!(starts[0], starts[1], "{text}");
        let states: Vec<usize> = text
            .lines()
            .skip(1)
            .map(|l| l.find("applied").unwrap())
            .collect();
        assert_eq!(states[0], states[1], "{text}");
    }
}
