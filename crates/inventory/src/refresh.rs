//! Refreshing the three inventory views: one at a time, each CONCURRENTLY
//! once populated (readers keep reading), each timed; the failure of one does
//! not stop the others.

use std::time::{Duration, Instant};

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
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
    /// The error, when it failed.
    pub error: Option<String>,
}

impl Refreshed {
    /// `core.view refreshed concurrently in 12 ms`, or what failed.
    pub fn describe(&self) -> String {
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
    Ok(client
        .query_one(sql::VIEWS_PRESENT, &[&views])
        .await?
        .get(0))
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Refreshes each view in turn and reports each; never stops early.
pub async fn refresh_all(client: &Client) -> Vec<Refreshed> {
    let mut done = Vec::with_capacity(VIEWS.len());
    for view in VIEWS {
        done.push(refresh(client, view).await);
    }
    done
}

async fn refresh(client: &Client, view: &'static str) -> Refreshed {
    let started = Instant::now();
    let populated = client
        .query_opt(sql::VIEW_STATE, &[&view])
        .await
        .map(|r| r.map(|r| r.get::<_, bool>(0)));
    let outcome = match populated {
        Ok(None) => Err(format!(
            "core.{view} does not exist: is migration 003 applied?"
        )),
        Ok(Some(concurrently)) => {
            let statement = format!(
                "REFRESH MATERIALIZED VIEW {}core.{view}",
                if concurrently { "CONCURRENTLY " } else { "" }
            );
            client
                .batch_execute(&statement)
                .await
                .map(|()| concurrently)
                .map_err(|e| describe(&e))
        }
        Err(e) => Err(describe(&e)),
    };
    Refreshed {
        view,
        concurrently: outcome.as_ref().copied().unwrap_or(false),
        duration: started.elapsed(),
        error: outcome.err(),
    }
}

fn describe(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|db| db.message().to_string())
        .unwrap_or_else(|| e.to_string())
}
