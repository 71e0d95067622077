//! Checks before a deploy changes anything: the server, the privileges, and
//! nobody holding the tables the migrations will alter; and which roles use
//! those tables.

use std::time::Duration;

use crate::error::Error;
use crate::session::Session;
use crate::sql;

/// What to check.
#[derive(Debug, Clone)]
pub struct PreflightOptions {
    /// Oldest server accepted (`server_version_num`), 120000 = PostgreSQL 12.
    pub min_server_version_num: i32,
    /// Schemas whose tables the migrations alter.
    pub schemas: Vec<String>,
    /// A transaction open longer than this blocks the deploy: DDL would wait
    /// behind it, and CREATE INDEX CONCURRENTLY waits for it to end.
    pub max_transaction_age: Duration,
}

impl Default for PreflightOptions {
    fn default() -> Self {
        PreflightOptions {
            min_server_version_num: 120_000,
            schemas: vec!["core".into()],
            max_transaction_age: Duration::from_secs(300),
        }
    }
}

/// One preflight check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// What was checked.
    pub check: &'static str,
    /// Whether it is fine.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

/// Runs the checks; the findings say what is wrong, nothing is changed.
///
/// # Errors
/// [`Error::Database`] when the facts cannot be read.
pub async fn preflight(
    session: &Session,
    options: &PreflightOptions,
) -> Result<Vec<Finding>, Error> {
    let age = i32::try_from(options.max_transaction_age.as_secs()).unwrap_or(i32::MAX);
    let row = session
        .client()
        .query_one(
            sql::PREFLIGHT,
            &[
                &options.schemas,
                &age,
                &crate::lock::KEYS.0,
                &crate::lock::KEYS.1,
            ],
        )
        .await
        .map_err(Error::db("reading preflight facts"))?;
    let version: i32 = row.get("server_version_num");
    let can_create: bool = row.get("can_create_schema");
    let list = |name: &str| -> Vec<String> { row.get(name) };
    let mut findings = vec![Finding {
        check: "server version",
        ok: version >= options.min_server_version_num,
        detail: format!(
            "PostgreSQL {} (at least {} needed)",
            session.server_version(),
            options.min_server_version_num / 10_000
        ),
    }];
    findings.push(writable(row.get("in_recovery"), row.get("read_only")));
    findings.push(Finding {
        check: "privilege to create schemas",
        ok: can_create,
        detail: if can_create {
            "yes".into()
        } else {
            "missing: GRANT CREATE ON DATABASE to this role (history and backup schemas)".into()
        },
    });
    findings.push(empty_is_ok(
        "privilege to create in the schemas",
        list("schemas_without_create"),
        "no CREATE on",
    ));
    findings.push(empty_is_ok(
        "ownership of the tables to alter",
        list("tables_not_owned"),
        "not owned by this role:",
    ));
    findings.push(empty_is_ok(
        "no locks on the tables to alter",
        list("locks_held"),
        "held:",
    ));
    findings.push(empty_is_ok(
        "no long-running transactions",
        list("long_transactions"),
        &format!(
            "open longer than {} s:",
            options.max_transaction_age.as_secs()
        ),
    ));
    findings.push(roles(list("roles_with_privileges")));
    Ok(findings)
}

/// Refuses ([`Error::ReadOnly`]) a standby or a read-only session before
/// anything is written: a run's first write (its history table, its
/// progress marker) would fail half-way through the story.
///
/// # Errors
/// [`Error::ReadOnly`]; [`Error::Database`] when the facts cannot be read.
pub async fn require_writable(session: &Session) -> Result<(), Error> {
    let row = session
        .client()
        .query_one(sql::WRITABLE, &[])
        .await
        .map_err(Error::db("asking whether the database can be written"))?;
    let finding = writable(row.get("in_recovery"), row.get("read_only"));
    if finding.ok {
        return Ok(());
    }
    Err(Error::ReadOnly {
        target: session.target().to_string(),
        detail: finding.detail,
    })
}

/// A standby or a read-only session fails every write; found here, before
/// the backup, not by the first migration statement.
fn writable(in_recovery: bool, read_only: bool) -> Finding {
    let detail = if in_recovery {
        "no: the server is a standby (in recovery); deploy to the primary".to_string()
    } else if read_only {
        "no: transactions are read-only (default_transaction_read_only is on for this \
         database or role); ALTER DATABASE … SET default_transaction_read_only = off, or \
         connect as a role that may write"
            .to_string()
    } else {
        "yes".to_string()
    };
    Finding {
        check: "writable database",
        ok: !in_recovery && !read_only,
        detail,
    }
}

/// The roles other than the owners that use the tables: not a failure, but
/// what the migrations must keep working (ADR-029), and what verify checks.
fn roles(found: Vec<String>) -> Finding {
    Finding {
        check: "roles using the tables",
        ok: true,
        detail: if found.is_empty() {
            "none but their owners".into()
        } else {
            format!(
                "{}; each gets the same on what the migrations add beside those tables, and verify checks it",
                found.join("; ")
            )
        },
    }
}

fn empty_is_ok(check: &'static str, found: Vec<String>, label: &str) -> Finding {
    Finding {
        check,
        ok: found.is_empty(),
        detail: if found.is_empty() {
            "none".into()
        } else {
            format!("{label} {}", found.join("; "))
        },
    }
}
