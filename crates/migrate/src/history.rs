//! The history tables in schema `mantis`: what is applied, and what is half-way.

use chrono::{DateTime, Utc};
use tokio_postgres::Client;

use crate::error::Error;
use crate::session::Session;
use crate::sql;
use crate::types::Direction;

/// One row of `mantis.schema_migrations`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppliedMigration {
    /// Version.
    pub version: u64,
    /// Name at the time it was applied.
    pub name: String,
    /// SHA-256 of the up file that was applied.
    pub checksum: String,
    /// When its transaction started.
    pub applied_at: DateTime<Utc>,
    /// Database role that applied it.
    pub applied_by: String,
    /// Wall time in milliseconds.
    pub duration_ms: i64,
    /// Tool and version that applied it.
    pub tool_version: String,
    /// `transaction`, `no-transaction` or `baseline`.
    pub mode: String,
    /// The backup taken before it, if any.
    pub backup: Option<String>,
}

/// A no-transaction migration that stopped half-way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// Version.
    pub version: u64,
    /// Name.
    pub name: String,
    /// Checksum of the file being run.
    pub checksum: String,
    /// Up or down.
    pub direction: Direction,
    /// Statements in the file.
    pub statements_total: usize,
    /// Statements completed.
    pub statements_done: usize,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// Role that started it.
    pub started_by: String,
    /// The error that stopped it, if recorded.
    pub last_error: Option<String>,
}

/// What the database says about its migrations.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DbState {
    /// Applied migrations, oldest first.
    pub applied: Vec<AppliedMigration>,
    /// A half-done no-transaction migration, if any.
    pub progress: Option<Progress>,
}

impl DbState {
    /// The newest applied version.
    pub fn current(&self) -> Option<u64> {
        self.applied.last().map(|a| a.version)
    }

    /// The applied row for `version`.
    pub fn applied(&self, version: u64) -> Option<&AppliedMigration> {
        self.applied.iter().find(|a| a.version == version)
    }
}

/// A history row to write.
pub(crate) struct Record<'a> {
    pub version: u64,
    pub name: &'a str,
    pub checksum: &'a str,
    pub duration_ms: i64,
    pub tool_version: &'a str,
    pub mode: &'a str,
    /// Said in the event log beside the mode (e.g. why a baseline was forced).
    pub note: Option<&'a str>,
}

/// Creates the history schema if missing. Call only under the migration lock.
pub(crate) async fn ensure(session: &Session) -> Result<(), Error> {
    if exists(session, sql::HISTORY_COMPLETE).await? {
        return Ok(());
    }
    session
        .client()
        .batch_execute(sql::CREATE_HISTORY)
        .await
        .map_err(Error::db("creating the mantis history schema"))
}

/// Reads the history without creating anything (an unmanaged database reads as empty).
pub(crate) async fn read(session: &Session) -> Result<DbState, Error> {
    let client = session.client();
    let role = &session.options().user;
    if !exists(session, sql::HISTORY_EXISTS)
        .await
        .map_err(|e| permission(role, e))?
    {
        return Ok(DbState::default());
    }
    let applied = client
        .query_typed(sql::SELECT_APPLIED, &[])
        .await
        .map_err(|e| permission(role, Error::db("reading migration history")(e)))?
        .iter()
        .map(applied_from_row)
        .collect::<Result<_, _>>()
        .map_err(Error::db("reading migration history"))?;
    let progress = client
        .query_typed_opt(sql::SELECT_PROGRESS, &[])
        .await
        .map_err(|e| permission(role, Error::db("reading migration progress")(e)))?
        .map(|r| progress_from_row(&r))
        .transpose()?;
    Ok(DbState { applied, progress })
}

/// A role that may not read the history (no USAGE on schema `mantis`, no
/// SELECT on its tables) gets the grants to ask for, not the server's words.
fn permission(role: &str, e: Error) -> Error {
    match &e {
        Error::Database { source, during }
            if source.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) =>
        {
            Error::HistoryNotReadable {
                role: role.to_string(),
                during,
                message: source
                    .as_db_error()
                    .map_or_else(|| source.to_string(), |d| d.message().to_string()),
            }
        }
        _ => e,
    }
}

async fn exists(session: &Session, query: &str) -> Result<bool, Error> {
    session
        .client()
        .query_typed_one(query, &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(Error::db("looking for the history tables"))
}

fn applied_from_row(r: &tokio_postgres::Row) -> Result<AppliedMigration, tokio_postgres::Error> {
    Ok(AppliedMigration {
        version: version_of(r.try_get("version")?),
        name: r.try_get("name")?,
        checksum: r.try_get("checksum")?,
        applied_at: r.try_get("applied_at")?,
        applied_by: r.try_get("applied_by")?,
        duration_ms: r.try_get("duration_ms")?,
        tool_version: r.try_get("tool_version")?,
        mode: r.try_get("mode")?,
        backup: r.try_get("backup")?,
    })
}

/// A progress row; a direction other than up or down is refused, not read
/// as up (resuming the wrong way would undo or redo committed work).
fn progress_from_row(r: &tokio_postgres::Row) -> Result<Progress, Error> {
    let read = || -> Result<(Progress, String), tokio_postgres::Error> {
        let count = |name: &str| {
            r.try_get::<_, i32>(name)
                .map(|n| usize::try_from(n).unwrap_or(0))
        };
        let progress = Progress {
            version: version_of(r.try_get("version")?),
            name: r.try_get("name")?,
            checksum: r.try_get("checksum")?,
            direction: Direction::Up, // replaced below by the marker's own, once checked
            statements_total: count("statements_total")?,
            statements_done: count("statements_done")?,
            started_at: r.try_get("started_at")?,
            started_by: r.try_get("started_by")?,
            last_error: r.try_get("last_error")?,
        };
        Ok((progress, r.try_get("direction")?))
    };
    let (mut progress, direction) = read().map_err(Error::db("reading migration progress"))?;
    progress.direction = direction.parse::<Direction>().map_err(|e| {
        Error::History(format!(
            "the progress marker of migration {:03} (mantis.migration_progress) says {e}; \
             it was changed by hand: set it back to 'up' or 'down' as the run that stopped went",
            progress.version
        ))
    })?;
    Ok(progress)
}

fn version_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(crate) fn db_version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// What a history event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// A migration was applied.
    Up,
    /// A migration was reverted.
    Down,
    /// A migration was recorded as applied without running it.
    Baseline,
}

impl Action {
    /// The word the event log keeps.
    fn as_str(self) -> &'static str {
        match self {
            Action::Up => "up",
            Action::Down => "down",
            Action::Baseline => "baseline",
        }
    }
}

impl From<Direction> for Action {
    fn from(direction: Direction) -> Action {
        match direction {
            Direction::Up => Action::Up,
            Direction::Down => Action::Down,
        }
    }
}

/// Writes the history row (up / baseline) or deletes it (down), and logs the event.
/// Runs on the caller's open transaction.
pub(crate) async fn record(client: &Client, action: Action, rec: &Record<'_>) -> Result<(), Error> {
    let version = db_version(rec.version);
    if action == Action::Down {
        client
            .execute(sql::DELETE_APPLIED, &[&version])
            .await
            .map_err(Error::db("removing the history row"))?;
    } else {
        client
            .execute(
                sql::INSERT_APPLIED,
                &[
                    &version,
                    &rec.name,
                    &rec.checksum,
                    &rec.duration_ms,
                    &rec.tool_version,
                    &rec.mode,
                ],
            )
            .await
            .map_err(Error::db("writing the history row"))?;
    }
    let event_mode = rec.note.map_or_else(
        || rec.mode.to_string(),
        |note| format!("{} ({note})", rec.mode),
    );
    client
        .execute(
            sql::INSERT_EVENT,
            &[
                &version,
                &rec.name,
                &action.as_str(),
                &rec.checksum,
                &event_mode,
                &rec.duration_ms,
                &rec.tool_version,
            ],
        )
        .await
        .map_err(Error::db("writing the event log"))?;
    Ok(())
}

/// Starts or re-opens the progress marker of a no-transaction migration.
pub(crate) async fn start_progress(
    client: &Client,
    version: u64,
    name: &str,
    checksum: &str,
    direction: Direction,
    total: usize,
) -> Result<(), Error> {
    let total = i32::try_from(total).unwrap_or(i32::MAX);
    client
        .execute(
            sql::UPSERT_PROGRESS,
            &[
                &db_version(version),
                &name,
                &checksum,
                &direction.as_str(),
                &total,
            ],
        )
        .await
        .map_err(Error::db("writing the progress marker"))?;
    Ok(())
}

/// Marks `done` statements as completed.
pub(crate) async fn advance_progress(
    client: &Client,
    version: u64,
    done: usize,
) -> Result<(), Error> {
    let done = i32::try_from(done).unwrap_or(i32::MAX);
    client
        .execute(sql::ADVANCE_PROGRESS, &[&db_version(version), &done])
        .await
        .map_err(Error::db("updating the progress marker"))?;
    Ok(())
}

/// Keeps the error that stopped the run (best effort: the connection may be gone).
pub(crate) async fn fail_progress(client: &Client, version: u64, error: &str) {
    if let Err(e) = client
        .execute(sql::FAIL_PROGRESS, &[&db_version(version), &error])
        .await
    {
        tracing::debug!(error = %e, "could not record the failure in the progress marker");
    }
}

/// Drops the marker (inside the transaction that writes the history row).
pub(crate) async fn clear_progress(client: &Client, version: u64) -> Result<(), Error> {
    client
        .execute(sql::DELETE_PROGRESS, &[&db_version(version)])
        .await
        .map_err(Error::db("clearing the progress marker"))?;
    Ok(())
}
