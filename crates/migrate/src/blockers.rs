//! Who a waiting statement waits for. A lock wait that ends in `lock_timeout`
//! leaves no trace on the server, so while the runner's statement runs, a
//! second connection looks at `pg_blocking_pids` of the runner's backend now
//! and then and keeps the last sessions it saw in the way.

use std::future::Future;
use std::time::Duration;

use crate::session::Session;
use crate::sql;
use crate::types::Blocker;

/// Watches the runner's backend from a second connection.
pub(crate) struct LockWatch {
    side: Option<Session>,
    pid: i32,
}

impl LockWatch {
    /// Opens the side connection (best effort: without it, waits are simply
    /// not explained).
    pub(crate) async fn open(session: &Session) -> LockWatch {
        let pid = session.backend_pid().await.unwrap_or(0);
        let side = match session.sibling("lock watch").await {
            Ok(side) => Some(side),
            Err(e) => {
                tracing::debug!(error = %e, "no side connection: lock waits will not name their blockers");
                None
            }
        };
        LockWatch { side, pid }
    }

    /// Runs `work`, and returns with its output the sessions last seen
    /// blocking the runner while it ran (empty when it never waited). Looks
    /// often enough to see any wait that reaches `lock_timeout`.
    pub(crate) async fn during<F: Future>(
        &self,
        work: F,
        lock_timeout: Duration,
    ) -> (F::Output, Vec<Blocker>) {
        let every = (lock_timeout * 2 / 5).max(Duration::from_millis(10));
        let Some(side) = &self.side else {
            return (work.await, Vec::new());
        };
        tokio::pin!(work);
        let mut seen = Vec::new();
        loop {
            tokio::select! {
                out = &mut work => return (out, seen),
                () = tokio::time::sleep(every) => {
                    let now = blockers(side, self.pid).await;
                    if !now.is_empty() {
                        seen = now;
                    }
                }
            }
        }
    }
}

async fn blockers(side: &Session, pid: i32) -> Vec<Blocker> {
    let read = |r: &tokio_postgres::Row| {
        Ok(Blocker {
            pid: r.try_get("pid")?,
            application: r.try_get("application")?,
            user: r.try_get("usename")?,
            state: r.try_get("state")?,
            transaction_ms: r.try_get("transaction_ms")?,
            query: r.try_get("query")?,
        })
    };
    let found = match side.client().query(sql::BLOCKERS, &[&pid]).await {
        Ok(rows) => rows.iter().map(read).collect(),
        Err(e) => Err(e),
    };
    match found {
        Ok(blockers) => blockers,
        Err(e) => {
            tracing::debug!(error = %e, "could not read blocking sessions");
            Vec::new()
        }
    }
}

/// "pid 1 (…); pid 2 (…)", or None when nobody was seen.
pub(crate) fn describe(blockers: &[Blocker]) -> Option<String> {
    (!blockers.is_empty()).then(|| {
        blockers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })
}
