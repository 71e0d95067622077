//! The materialized views of migration 003: refreshing them.

use tokio_postgres::Client;

use crate::sql;

/// One refreshed view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refreshed {
    /// The view, in schema core.
    pub view: String,
    /// Whether readers could go on reading (REFRESH … CONCURRENTLY).
    pub concurrently: bool,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
}

/// Refreshes every inventory view with `core.refresh_all_inventory_views()`;
/// None when 003 is not applied.
///
/// # Errors
/// The driver error.
pub async fn refresh_all(client: &Client) -> Result<Option<Vec<Refreshed>>, tokio_postgres::Error> {
    let present: bool = client.query_one(sql::HAS_REFRESH, &[]).await?.get(0);
    if !present {
        return Ok(None);
    }
    let rows = client.query(sql::REFRESH_ALL, &[]).await?;
    Ok(Some(
        rows.iter()
            .map(|r| Refreshed {
                view: r.get(0),
                concurrently: r.get(1),
                duration_ms: r.get(2),
            })
            .collect(),
    ))
}
