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
    /// Fine, but worth a look before going on (the deploy goes on).
    pub warning: bool,
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
        warning: false,
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
        warning: false,
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
    findings.extend(replication(session).await?);
    Ok(findings)
}

/// The standbys streaming from the server (which batches wait for) and the
/// replication slots (warning about one with no consumer): what `deploy`'s
/// preflight and `plan` show.
///
/// # Errors
/// [`Error::Database`] when the facts cannot be read.
pub async fn replication(session: &Session) -> Result<Vec<Finding>, Error> {
    Ok(vec![
        standbys(&crate::batch::read_standbys(session).await?),
        slots(&read_slots(session).await?),
    ])
}

/// A replication slot: WAL is kept for it until its consumer confirms it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Its name and type (physical, logical).
    pub name: String,
    /// Whether a consumer is connected now.
    pub active: bool,
    /// WAL kept for it, in bytes (None: it has reserved none).
    pub retained: Option<u64>,
}

/// The server's replication slots.
///
/// # Errors
/// The server's, as [`Error::Database`].
pub async fn read_slots(session: &Session) -> Result<Vec<Slot>, Error> {
    let rows = session
        .client()
        .query(sql::SLOTS, &[])
        .await
        .map_err(Error::db("reading the replication slots"))?;
    rows.iter()
        .map(|row| {
            let retained: Option<i64> = row.try_get("retained")?;
            Ok(Slot {
                name: row.try_get("slot")?,
                active: row.try_get("active")?,
                retained: retained.map(|r| u64::try_from(r).unwrap_or(0)),
            })
        })
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(Error::db("reading the replication slots"))
}

/// The standbys streaming from the server: batches wait for them
/// (`--max-replication-lag`); one whose position this role cannot see is not
/// waited for, which is worth knowing before a backfill.
fn standbys(found: &[crate::batch::Standby]) -> Finding {
    let unseen = found.iter().any(|s| !s.visible());
    let listed: Vec<String> = found
        .iter()
        .map(|s| match s.behind {
            Some(b) => format!("{} ({} behind)", s.name, crate::batch::bytes(b)),
            None => format!(
                "{} (how far behind is hidden from this role: GRANT pg_monitor TO it, or batches cannot wait for it)",
                s.name
            ),
        })
        .collect();
    Finding {
        check: "standbys",
        ok: true,
        warning: unseen,
        detail: if listed.is_empty() {
            "none streaming from this server".into()
        } else {
            format!(
                "{}; batches wait while one is further behind than --max-replication-lag",
                listed.join("; ")
            )
        },
    }
}

/// Replication slots. One with no consumer connected keeps every byte of
/// WAL from its position on: what it holds now, and all the migration
/// writes (gigabytes for a backfill of a large table), until its consumer
/// comes back or it is dropped; a full disk stops the server.
fn slots(found: &[Slot]) -> Finding {
    let inactive: Vec<&Slot> = found.iter().filter(|s| !s.active).collect();
    let describe = |s: &Slot| {
        let kept = s.retained.map_or("no WAL".to_string(), crate::batch::bytes);
        format!(
            "{} ({}, keeps {kept})",
            s.name,
            if s.active { "active" } else { "NO CONSUMER" }
        )
    };
    let detail = if found.is_empty() {
        "none".into()
    } else if inactive.is_empty() {
        found.iter().map(describe).collect::<Vec<_>>().join("; ")
    } else {
        format!(
            "{}: a slot with no consumer keeps all WAL written from its position on, this migration's too, \
             until its consumer returns or the slot is dropped (SELECT pg_drop_replication_slot('NAME'))",
            found.iter().map(describe).collect::<Vec<_>>().join("; ")
        )
    };
    Finding {
        check: "replication slots",
        ok: true,
        warning: !inactive.is_empty(),
        detail,
    }
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
        warning: false,
        detail,
    }
}

/// The roles other than the owners that use the tables: not a failure, but
/// what the migrations must keep working (ADR-029), and what verify checks.
fn roles(found: Vec<String>) -> Finding {
    Finding {
        check: "roles using the tables",
        ok: true,
        warning: false,
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
        warning: false,
        detail: if found.is_empty() {
            "none".into()
        } else {
            format!("{label} {}", found.join("; "))
        },
    }
}
