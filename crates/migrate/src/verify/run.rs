//! Running a suite: one rolled-back transaction, a savepoint per check.

use std::time::Instant;

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, SimpleQueryMessage};

use super::plan_check::plan_outcome;
use super::report::{CheckResult, Outcome, VerifyReport};
use super::suite::{Check, CheckKind, Severity, Suite};
use crate::error::Error;
use crate::sql;

/// Offending rows kept per failed check; the total is always counted.
const ROWS_KEPT: usize = 20;

/// How to run a suite.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Session settings for the checks, e.g. thresholds they read with
    /// `current_setting('mantis.min_cost_coverage', true)`; set with
    /// `set_config(…, true)`, so they vanish with the transaction.
    pub settings: Vec<(String, String)>,
    /// Severity overrides by check name.
    pub severities: Vec<(String, Severity)>,
}

impl VerifyOptions {
    fn severity_of(&self, check: &Check) -> Severity {
        self.severities
            .iter()
            .rev()
            .find(|(name, _)| *name == check.name)
            .map_or(check.severity, |(_, s)| *s)
    }
}

/// Runs every check of `suite`; the database is left exactly as it was.
///
/// # Errors
/// [`Error::Database`] only when the transaction itself cannot be opened,
/// configured or rolled back; a failing or erroring check is an [`Outcome`].
pub async fn run(
    client: &Client,
    suite: &Suite,
    options: &VerifyOptions,
) -> Result<VerifyReport, Error> {
    client
        .batch_execute(sql::VERIFY_BEGIN)
        .await
        .map_err(Error::db("starting the verify transaction"))?;
    let result = run_checks(client, suite, options).await;
    let rollback = client
        .batch_execute("ROLLBACK")
        .await
        .map_err(Error::db("rolling back the verify transaction"));
    let results = result?;
    rollback?;
    Ok(VerifyReport {
        file: suite.file.clone(),
        results,
    })
}

async fn run_checks(
    client: &Client,
    suite: &Suite,
    options: &VerifyOptions,
) -> Result<Vec<CheckResult>, Error> {
    for (name, value) in &options.settings {
        client
            .query_one(sql::SET_LOCAL_SETTING, &[name, value])
            .await
            .map_err(Error::db("applying verify settings"))?;
    }
    let mut results = Vec::with_capacity(suite.checks.len());
    for check in &suite.checks {
        results.push(run_check(client, check, options.severity_of(check)).await?);
    }
    Ok(results)
}

async fn run_check(
    client: &Client,
    check: &Check,
    severity: Severity,
) -> Result<CheckResult, Error> {
    client
        .batch_execute("SAVEPOINT mantis_check")
        .await
        .map_err(Error::db("opening a savepoint for a check"))?;
    let started = Instant::now();
    let outcome = match &check.kind {
        CheckKind::Plan { uses } => plan_outcome(client, &check.sql, uses).await,
        CheckKind::Rows | CheckKind::Report => match client.simple_query(&check.sql).await {
            Ok(messages) => rows_outcome(&messages, check.kind == CheckKind::Report),
            Err(e) if check.skip_on_conflict && is_conflict(&e) => skipped(&e),
            Err(e) if e.code() == Some(&SqlState::READ_ONLY_SQL_TRANSACTION) => read_only(),
            Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => not_permitted(&e),
            Err(e) => errored(&e),
        },
    };
    let duration = started.elapsed();
    client
        .batch_execute("ROLLBACK TO SAVEPOINT mantis_check")
        .await
        .map_err(Error::db("rolling back a check"))?;
    Ok(CheckResult {
        check: check.clone(),
        effective_severity: severity,
        outcome,
        duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
    })
}

/// A collision with other sessions: serialization failure, deadlock, or a
/// lock timeout.
fn is_conflict(e: &tokio_postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::LOCK_NOT_AVAILABLE,
        ]
        .contains(c)
    })
}

fn skipped(e: &tokio_postgres::Error) -> Outcome {
    let (sqlstate, message) = code_and_message(e);
    Outcome::Skipped {
        reason: format!(
            "another session was doing the same ({} {message})",
            sqlstate.unwrap_or_default()
        ),
    }
}

/// A check that writes (a rule test, in its savepoint, always rolled back)
/// cannot run on a read-only database: skipped, not failed, with why.
fn read_only() -> Outcome {
    Outcome::Skipped {
        reason: "it writes (in a transaction always rolled back) and the database is read-only \
                 (a standby, or default_transaction_read_only); run verify on the primary to include it"
            .into(),
    }
}

/// A check the verifying role may not run (a rule test inserts rows; a
/// reporting role may only read): skipped, with the server's words; the
/// owner runs it.
fn not_permitted(e: &tokio_postgres::Error) -> Outcome {
    let (_, message) = code_and_message(e);
    Outcome::Skipped {
        reason: format!(
            "this role may not run it ({message}); run verify as the schema's owner to include it"
        ),
    }
}

/// The outcome of a check the server refused to run (or that raised).
pub(super) fn errored(e: &tokio_postgres::Error) -> Outcome {
    let (sqlstate, message) = code_and_message(e);
    Outcome::Errored { sqlstate, message }
}

fn code_and_message(e: &tokio_postgres::Error) -> (Option<String>, String) {
    (
        e.code().map(|c| c.code().to_string()),
        e.as_db_error()
            .map_or_else(|| e.to_string(), |d| d.message().to_string()),
    )
}

/// Rows of the last result set count (a check may set things up first).
fn rows_outcome(messages: &[SimpleQueryMessage], report: bool) -> Outcome {
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
    if report {
        Outcome::Info { columns, rows }
    } else if total == 0 {
        Outcome::Passed
    } else {
        Outcome::Failed {
            columns,
            rows,
            total,
        }
    }
}
