//! The migration lock: a session-level PostgreSQL advisory lock that serializes
//! runners against one database.
//!
//! A session lock (not a transaction lock) is needed because no-transaction
//! migrations run many transactions. It is released when the session ends, so a
//! killed runner never leaves it behind. Behind a transaction-mode pooler the
//! lock would be taken on one server connection and the work done on others;
//! [`ensure_held`] catches that before every step.

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::event::{Event, EventSink};
use crate::session::Session;
use crate::sql;
use crate::types::LockHolder;

/// The two int4 keys of the lock: "mant" and "is" + 1.
pub(crate) const KEYS: (i32, i32) = (0x6d61_6e74, 0x6973_0001);
/// How often a waiting runner retries.
const POLL: Duration = Duration::from_millis(100);
/// How often a waiting runner says it is still waiting.
const REPORT_EVERY: Duration = Duration::from_secs(5);

/// Proof that this session holds the lock, and on which backend.
#[derive(Debug)]
pub struct LockGuard {
    backend_pid: i32,
}

/// Takes the lock, waiting up to `limit` and reporting who holds it meanwhile.
///
/// # Errors
/// [`Error::LockWaitTimeout`] naming the holder when `limit` passes.
pub async fn acquire(
    session: &Session,
    limit: Duration,
    events: &EventSink,
) -> Result<LockGuard, Error> {
    let started = Instant::now();
    let mut last_report: Option<Instant> = None;
    loop {
        let got: bool = session
            .client()
            .query_one(sql::TRY_LOCK, &[&KEYS.0, &KEYS.1])
            .await
            .and_then(|row| row.try_get("got"))
            .map_err(Error::db("taking the migration lock"))?;
        if got {
            events(&Event::LockAcquired {
                waited: started.elapsed(),
            });
            let (backend_pid, _) = held(session).await?;
            return Ok(LockGuard { backend_pid });
        }
        let holder = holder(session).await?;
        if started.elapsed() >= limit {
            return Err(Error::LockWaitTimeout {
                waited: started.elapsed(),
                holder,
            });
        }
        if last_report.is_none_or(|t| t.elapsed() >= REPORT_EVERY) {
            events(&Event::LockWaiting {
                holder,
                waited: started.elapsed(),
                limit,
            });
            last_report = Some(Instant::now());
        }
        tokio::time::sleep(POLL.min(limit.saturating_sub(started.elapsed()))).await;
    }
}

/// Checks that the lock is still ours on the same backend.
///
/// # Errors
/// [`Error::LockLost`] when it is not (typically a transaction-mode pooler).
pub async fn ensure_held(session: &Session, guard: &LockGuard) -> Result<(), Error> {
    let (pid, held) = held(session).await?;
    if held && pid == guard.backend_pid {
        return Ok(());
    }
    Err(Error::LockLost {
        expected_pid: guard.backend_pid,
        current_pid: pid,
    })
}

/// Releases the lock. Errors are logged, not returned: the session's end
/// releases it anyway.
pub async fn release(session: &Session, guard: LockGuard) {
    if let Err(e) = session
        .client()
        .query_one(sql::UNLOCK, &[&KEYS.0, &KEYS.1])
        .await
    {
        tracing::debug!(error = %e, pid = guard.backend_pid, "releasing the migration lock failed");
    }
}

async fn held(session: &Session) -> Result<(i32, bool), Error> {
    session
        .client()
        .query_one(sql::LOCK_HELD, &[&i64::from(KEYS.0), &i64::from(KEYS.1)])
        .await
        .and_then(|row| Ok((row.try_get("pid")?, row.try_get("held")?)))
        .map_err(Error::db("checking the migration lock"))
}

async fn holder(session: &Session) -> Result<Option<LockHolder>, Error> {
    let row = session
        .client()
        .query_opt(sql::LOCK_HOLDER, &[&i64::from(KEYS.0), &i64::from(KEYS.1)])
        .await
        .map_err(Error::db("looking up the migration lock holder"))?;
    row.map(|r| {
        Ok(LockHolder {
            pid: r.try_get("pid")?,
            application: r.try_get("application")?,
            user: r.try_get("usename")?,
            client: r.try_get("client")?,
            running_ms: r.try_get("running_ms")?,
        })
    })
    .transpose()
    .map_err(Error::db("looking up the migration lock holder"))
}
