//! Outcomes of checks and of a whole suite.

use super::suite::{Check, CheckKind, Severity};

/// How one check ended.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// No offending rows.
    Passed,
    /// Offending rows were returned (or the plan lacked an expected index).
    Failed {
        /// Column names of the offending rows.
        columns: Vec<String>,
        /// Up to 20 offending rows, as text (NULL as `None`).
        rows: Vec<Vec<Option<String>>>,
        /// How many rows the check returned in all.
        total: usize,
    },
    /// The check could not run, or raised an error on purpose (a DO block
    /// test): the message says what was expected and what was found.
    Errored {
        /// SQLSTATE, when the server sent one.
        sqlstate: Option<String>,
        /// The server's message.
        message: String,
    },
    /// Skipped: an `on-conflict: skip` check collided with other sessions.
    Skipped {
        /// Why, with the SQLSTATE.
        reason: String,
    },
    /// A report: its rows, shown and not judged.
    Info {
        /// Column names.
        columns: Vec<String>,
        /// Rows, as text.
        rows: Vec<Vec<Option<String>>>,
    },
}

/// One check and its outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckResult {
    /// The check.
    #[serde(flatten)]
    pub check: Check,
    /// Its severity for this run (a file's default, or the caller's override).
    pub effective_severity: Severity,
    /// What happened.
    pub outcome: Outcome,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

impl CheckResult {
    /// True when the check passed (reports always pass).
    pub fn passed(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::Passed | Outcome::Info { .. } | Outcome::Skipped { .. }
        )
    }

    /// True when this result makes the suite fail.
    pub fn fails_suite(&self) -> bool {
        !self.passed() && self.effective_severity == Severity::Failure
    }

    /// True for a report (information, not a check).
    pub fn is_report(&self) -> bool {
        self.check.kind == CheckKind::Report
    }

    /// `[section] check: finding`, the one line naming a failed check.
    pub fn describe(&self) -> String {
        format!(
            "[{}] {}: {}",
            self.check.section,
            self.check.name,
            self.finding().unwrap_or_default()
        )
    }

    /// One line saying what was found, for a failed or errored check.
    pub fn finding(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Passed | Outcome::Info { .. } | Outcome::Skipped { .. } => None,
            Outcome::Errored { sqlstate, message } => Some(format!(
                "error {}: {message}",
                sqlstate.as_deref().unwrap_or("-----")
            )),
            Outcome::Failed {
                columns,
                rows,
                total,
            } => {
                let shown: Vec<String> = rows.iter().map(|r| render_row(columns, r)).collect();
                let more = total.saturating_sub(rows.len());
                let tail = if more > 0 {
                    format!("; … and {more} more")
                } else {
                    String::new()
                };
                Some(format!(
                    "{total} offending row(s): {}{tail}",
                    shown.join("; ")
                ))
            }
        }
    }
}

/// `col=value, …` for one row.
pub fn render_row(columns: &[String], row: &[Option<String>]) -> String {
    columns
        .iter()
        .zip(row)
        .map(|(c, v)| format!("{c}={}", v.as_deref().unwrap_or("NULL")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The outcome of a whole suite.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// The verify file.
    pub file: String,
    /// Every check, in file order.
    pub results: Vec<CheckResult>,
}

impl VerifyReport {
    /// True when no check of severity failure failed.
    pub fn passed(&self) -> bool {
        !self.results.iter().any(CheckResult::fails_suite)
    }

    /// The checks that make the suite fail.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.results.iter().filter(|r| r.fails_suite())
    }

    /// The checks that failed with severity warning.
    pub fn warnings(&self) -> impl Iterator<Item = &CheckResult> {
        self.results
            .iter()
            .filter(|r| !r.passed() && r.effective_severity == Severity::Warning)
    }

    /// Judged checks (reports left out).
    pub fn checks(&self) -> impl Iterator<Item = &CheckResult> {
        self.results.iter().filter(|r| !r.is_report())
    }
}
