//! The verify runner: a migration's `.verify.sql` as named checks.
//!
//! Convention (the one dbt uses for data tests): a check is a statement whose
//! result rows are the offending rows; zero rows means it passes. The comment
//! lines `-- section: NAME` and `-- check: NAME` above a statement name it; a
//! section lasts until the next one. `-- drift-check: skip` under a section
//! line leaves that section's checks out of the drift check.
//!
//! The whole suite runs in one REPEATABLE READ transaction (one consistent
//! snapshot) that is always rolled back, and each check in its own savepoint:
//! a check that writes (a constraint or trigger test) changes nothing, and a
//! check that errors does not stop the others.

use std::time::Instant;

use tokio_postgres::{Client, SimpleQueryMessage};

use crate::error::Error;
use crate::script::Script;
use crate::sql;

/// Offending rows kept per failed check; the total is always counted.
const ROWS_KEPT: usize = 20;

/// One named check of a verify file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// Section, e.g. `6 Orphaned records` (empty before the first section line).
    pub section: String,
    /// Check name, e.g. `no stock without product`.
    pub name: String,
    /// 1-based line of the statement in its file.
    pub line: usize,
    /// Part of the drift check run before migrating up. Checks of the data
    /// rather than the schema opt out with `-- drift-check: skip` under
    /// their section line (data legitimately changes after a migration).
    pub drift: bool,
    /// The statement.
    #[serde(skip)]
    pub sql: String,
}

/// The checks of one verify file, in file order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Suite {
    /// The verify file, as `origin/name`.
    pub file: String,
    /// Its checks.
    pub checks: Vec<Check>,
}

impl Suite {
    /// Names every statement of `script` from the comment lines above it.
    pub fn from_script(script: &Script) -> Suite {
        let lines: Vec<&str> = script.sql.lines().collect();
        let mut section = String::new();
        let mut drift = true;
        let mut after_previous = 0;
        let mut checks = Vec::with_capacity(script.statements.len());
        for statement in &script.statements {
            let above = lines
                .get(after_previous..statement.line.saturating_sub(1))
                .unwrap_or_default();
            let mut name = None;
            for line in above.iter().map(|l| l.trim()) {
                if let Some(s) = tagged(line, "section:") {
                    section = s.to_string();
                    drift = true;
                } else if tagged(line, "drift-check:") == Some("skip") {
                    drift = false;
                } else if let Some(n) = tagged(line, "check:") {
                    name = Some(n.to_string());
                }
            }
            after_previous = statement.line - 1 + statement.sql.lines().count();
            checks.push(Check {
                section: section.clone(),
                name: name.unwrap_or_else(|| format!("statement at line {}", statement.line)),
                line: statement.line,
                drift,
                sql: statement.sql.clone(),
            });
        }
        Suite {
            file: script.path.clone(),
            checks,
        }
    }

    /// The checks that belong to the drift check.
    pub fn drift_checks(&self) -> Suite {
        Suite {
            file: self.file.clone(),
            checks: self.checks.iter().filter(|c| c.drift).cloned().collect(),
        }
    }
}

fn tagged<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    line.strip_prefix("--")
        .map(str::trim_start)
        .and_then(|rest| rest.strip_prefix(tag))
        .map(str::trim)
}

/// How one check ended.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// No offending rows.
    Passed,
    /// Offending rows were returned.
    Failed {
        /// Column names of the offending rows.
        columns: Vec<String>,
        /// Up to 20 offending rows, as text (NULL as `None`).
        rows: Vec<Vec<Option<String>>>,
        /// How many rows the check returned in all.
        total: usize,
    },
    /// The check could not run (e.g. a table it reads is missing).
    Errored {
        /// SQLSTATE, when the server sent one.
        sqlstate: Option<String>,
        /// The server's message.
        message: String,
    },
}

/// One check and its outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckResult {
    /// The check.
    #[serde(flatten)]
    pub check: Check,
    /// What happened.
    pub outcome: Outcome,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

impl CheckResult {
    /// True when the check passed.
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Passed)
    }

    /// One line saying what was found, for a failed or errored check.
    pub fn finding(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Passed => None,
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

fn render_row(columns: &[String], row: &[Option<String>]) -> String {
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
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.results.iter().all(CheckResult::passed)
    }

    /// The checks that did not pass.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.results.iter().filter(|r| !r.passed())
    }
}

/// Runs every check of `suite`; the database is left exactly as it was.
///
/// # Errors
/// [`Error::Database`] only when the transaction itself cannot be opened or
/// rolled back; a failing or erroring check is an [`Outcome`], not an error.
pub async fn run(client: &Client, suite: &Suite) -> Result<VerifyReport, Error> {
    client
        .batch_execute(sql::VERIFY_BEGIN)
        .await
        .map_err(Error::db("starting the verify transaction"))?;
    let mut results = Vec::with_capacity(suite.checks.len());
    for check in &suite.checks {
        results.push(run_check(client, check).await?);
    }
    client
        .batch_execute("ROLLBACK")
        .await
        .map_err(Error::db("rolling back the verify transaction"))?;
    Ok(VerifyReport {
        file: suite.file.clone(),
        results,
    })
}

async fn run_check(client: &Client, check: &Check) -> Result<CheckResult, Error> {
    client
        .batch_execute("SAVEPOINT mantis_check")
        .await
        .map_err(Error::db("opening a savepoint for a check"))?;
    let started = Instant::now();
    let outcome = match client.simple_query(&check.sql).await {
        Ok(messages) => outcome_of(&messages),
        Err(e) => Outcome::Errored {
            sqlstate: e.code().map(|c| c.code().to_string()),
            message: e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_string()),
        },
    };
    let duration = started.elapsed();
    client
        .batch_execute("ROLLBACK TO SAVEPOINT mantis_check")
        .await
        .map_err(Error::db("rolling back a check"))?;
    Ok(CheckResult {
        check: check.clone(),
        outcome,
        duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
    })
}

/// Rows of the last result set count (a check may set things up first).
fn outcome_of(messages: &[SimpleQueryMessage]) -> Outcome {
    let mut columns = Vec::new();
    let mut rows = Vec::new();
    let mut total = 0;
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(desc) => {
                columns = desc.iter().map(|c| c.name().to_string()).collect();
                rows.clear();
                total = 0;
            }
            SimpleQueryMessage::Row(row) => {
                total += 1;
                if rows.len() < ROWS_KEPT {
                    rows.push(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_string))
                            .collect(),
                    );
                }
            }
            _ => {}
        }
    }
    if total == 0 {
        Outcome::Passed
    } else {
        Outcome::Failed {
            columns,
            rows,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::ScriptKind;

    #[test]
    fn checks_take_names_and_sections_from_the_comments_above_them() {
        let text = "-- section: 1 Schema\n-- check: tables exist\nSELECT 1\nWHERE false;\n\n\
                    -- check: second\nSELECT 2;\n-- section: 2 Data\n-- drift-check: skip\nSELECT 3;\n";
        let script = Script::parse("v.verify.sql", text, ScriptKind::Verify).unwrap();
        let suite = Suite::from_script(&script);
        let named: Vec<(&str, &str)> = suite
            .checks
            .iter()
            .map(|c| (c.section.as_str(), c.name.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("1 Schema", "tables exist"),
                ("1 Schema", "second"),
                ("2 Data", "statement at line 10")
            ]
        );
        let drift_suite = suite.drift_checks();
        let drift: Vec<&str> = drift_suite.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(drift, ["tables exist", "second"]);
    }
}
