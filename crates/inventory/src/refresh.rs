//! Refreshing the three inventory views: one at a time, each CONCURRENTLY
//! once populated (readers keep reading), each timed; the failure of one does
//! not stop the others.
//!
//! Two sessions refreshing at once would queue one REFRESH behind the other
//! (each takes an EXCLUSIVE lock on its view) until lock_timeout fails it:
//! five `mantis deploy` at once failed that way. So mantis's refreshes take
//! turns on an advisory lock of their own: a refresh that finds another
//! running waits for it (up to [`TURN_WAIT`]), then refreshes with the data
//! committed by then; if the other is still running, it skips, saying so. A
//! view held by a refresh from outside mantis (lock_timeout) is skipped too.

use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;

use serde::Serialize;
use tokio_postgres::Client;

use crate::sql;

/// The views, in refresh order.
pub const VIEWS: [&str; 3] = [
    "mv_inventory_valuation",
    "mv_product_stock_summary",
    "mv_low_stock_alerts",
];

/// What happened to one view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refreshed {
    /// View name (schema core).
    pub view: &'static str,
    /// Whether it was refreshed CONCURRENTLY (false the first time).
    pub concurrently: bool,
    /// How long it took.
    #[serde(serialize_with = "crate::duration::millis")]
    pub duration: Duration,
    /// Why it was not refreshed although nothing failed (another session
    /// was refreshing it).
    pub skipped: Option<String>,
    /// The error, when it failed.
    pub error: Option<String>,
}

/// How long a refresh waits for another session's refresh to finish.
pub const TURN_WAIT: Duration = Duration::from_secs(60);

impl Refreshed {
    /// `core.view refreshed concurrently in 12 ms`, or what failed.
    pub fn describe(&self) -> String {
        if let Some(why) = &self.skipped {
            return format!("core.{} skipped: {why}", self.view);
        }
        match &self.error {
            None => format!(
                "core.{} refreshed{} in {} ms",
                self.view,
                if self.concurrently {
                    " concurrently"
                } else {
                    ""
                },
                self.duration.as_millis()
            ),
            Some(e) => format!(
                "core.{} FAILED after {} ms: {e}",
                self.view,
                self.duration.as_millis()
            ),
        }
    }
}

/// Whether the three views exist (migration 003 is applied).
///
/// # Errors
/// The driver error.
pub async fn present(client: &Client) -> Result<bool, tokio_postgres::Error> {
    let views: Vec<&str> = VIEWS.to_vec();
    client
        .query_one(sql::VIEWS_PRESENT, &[&views])
        .await?
        .try_get("present")
}

/// Refreshes each view in turn and reports each; never stops early. Waits
/// its turn behind another session's refresh (up to [`TURN_WAIT`]).
pub async fn refresh_all(client: &Client) -> Vec<Refreshed> {
    refresh_all_waiting(client, TURN_WAIT).await
}

/// [`refresh_all`], waiting at most `wait` for another session's refresh.
pub async fn refresh_all_waiting(client: &Client, wait: Duration) -> Vec<Refreshed> {
    let started = Instant::now();
    if let Err(why) = take_turn(client, wait).await {
        return VIEWS
            .iter()
            .map(|view| Refreshed {
                view,
                concurrently: false,
                duration: started.elapsed(),
                skipped: Some(why.clone()),
                error: None,
            })
            .collect();
    }
    let mut done = Vec::with_capacity(VIEWS.len());
    for view in VIEWS {
        done.push(refresh(client, view).await);
    }
    // The lock also goes with the session: an unlock that fails loses nothing.
    let _ = client.query_one(sql::REFRESH_UNLOCK, &[]).await;
    done
}

/// Takes the refresh lock, polling while another session holds it; says who
/// kept it when `wait` runs out.
async fn take_turn(client: &Client, wait: Duration) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let taken: bool = client
            .query_one(sql::REFRESH_LOCK, &[])
            .await
            .and_then(|row| row.try_get("taken"))
            .map_err(|e| describe(&e))?;
        if taken {
            return Ok(());
        }
        if started.elapsed() >= wait {
            let holder = client
                .query_opt(sql::REFRESH_HOLDER, &[])
                .await
                .ok()
                .flatten()
                .and_then(|r| {
                    let pid: i32 = r.try_get("pid").ok()?;
                    let application: String = r.try_get("application").ok()?;
                    let user: String = r.try_get("usename").ok()?;
                    Some(format!("pid {pid} ({application} as {user})"))
                })
                .unwrap_or_else(|| "another session".to_string());
            return Err(format!(
                "{holder} was still refreshing the views after {} s; they will be as fresh as its refresh",
                wait.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn refresh(client: &Client, view: &'static str) -> Refreshed {
    let started = Instant::now();
    let mut done = Refreshed {
        view,
        concurrently: false,
        duration: Duration::ZERO,
        skipped: None,
        error: None,
    };
    match client.query_opt(sql::VIEW_STATE, &[&view]).await {
        Ok(None) => {
            done.error = Some(format!(
                "core.{view} does not exist: is migration 003 applied?"
            ));
        }
        Ok(Some(row)) => {
            done.concurrently = match row.try_get("ispopulated") {
                Ok(populated) => populated,
                Err(e) => {
                    done.error = Some(describe(&e));
                    return done;
                }
            };
            let statement = format!(
                "REFRESH MATERIALIZED VIEW {}core.{view}",
                if done.concurrently {
                    "CONCURRENTLY "
                } else {
                    ""
                }
            );
            match client.batch_execute(&statement).await {
                Ok(()) => {}
                Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                    done.skipped = Some(format!(
                        "another session held core.{view} longer than lock_timeout \
                         (a refresh from outside mantis?); refresh later"
                    ));
                }
                Err(e) => done.error = Some(describe(&e)),
            }
        }
        Err(e) => done.error = Some(describe(&e)),
    }
    done.duration = started.elapsed();
    done
}

fn describe(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|db| db.message().to_string())
        .unwrap_or_else(|| e.to_string())
}
