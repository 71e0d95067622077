//! Reports: valuation per warehouse, stock summary per product and low-stock
//! alerts (from the materialized views, with when they were refreshed), and
//! the live stock levels and movement history of products.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::sql;

/// Stock value of one warehouse.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Valuation {
    /// Warehouse code.
    pub warehouse: String,
    /// Warehouse name.
    pub name: String,
    /// Products with stock > 0.
    pub products_in_stock: i64,
    /// Sum of quantities.
    pub quantity: Decimal,
    /// Sum of stock values, rounded to cents.
    pub value: Decimal,
    /// Stock rows in stock without a known unit cost (not in the value).
    pub uncosted_rows: i64,
    /// When the view was last refreshed.
    pub refreshed_at: DateTime<Utc>,
}

/// Stock of one product across warehouses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductSummary {
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Brand.
    pub brand: Option<String>,
    /// Quantity in all warehouses.
    pub quantity: Decimal,
    /// Value in all warehouses, rounded to cents.
    pub value: Decimal,
    /// Warehouses with stock > 0.
    pub warehouses_in_stock: i64,
    /// Reorder level.
    pub min_stock_level: Decimal,
    /// Whether the total is below the reorder level.
    pub below_minimum: bool,
    /// When the view was last refreshed.
    pub refreshed_at: DateTime<Utc>,
}

/// How bad a low-stock alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Nothing left.
    OutOfStock,
    /// At most half the reorder level.
    Critical,
    /// Below the reorder level.
    Low,
}

impl Severity {
    /// The label in the view.
    pub fn label(self) -> &'static str {
        match self {
            Severity::OutOfStock => "OUT_OF_STOCK",
            Severity::Critical => "CRITICAL",
            Severity::Low => "LOW",
        }
    }

    /// This severity and every worse one.
    pub fn and_worse(self) -> Vec<Severity> {
        [Severity::OutOfStock, Severity::Critical, Severity::Low]
            .into_iter()
            .take(match self {
                Severity::OutOfStock => 1,
                Severity::Critical => 2,
                Severity::Low => 3,
            })
            .collect()
    }
}

/// A stock row below its product's reorder level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// SKU.
    pub sku: String,
    /// Product name.
    pub name: String,
    /// Warehouse code.
    pub warehouse: String,
    /// Quantity on hand.
    pub quantity: Decimal,
    /// Reorder level.
    pub min_stock_level: Decimal,
    /// How much is missing to the reorder level.
    pub shortfall: Decimal,
    /// OUT_OF_STOCK, CRITICAL or LOW.
    pub severity: String,
    /// When the view was last refreshed.
    pub refreshed_at: DateTime<Utc>,
}

/// One movement of a product's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// Movement id.
    pub id: Uuid,
    /// Warehouse code.
    pub warehouse: String,
    /// Movement type.
    pub movement_type: String,
    /// Signed quantity.
    pub quantity: Decimal,
    /// Unit cost in or out.
    pub unit_cost: Option<Decimal>,
    /// Change of value.
    pub value_delta: Option<Decimal>,
    /// Quantity in that warehouse after it.
    pub quantity_after: Decimal,
    /// Value in that warehouse after it.
    pub value_after: Option<Decimal>,
    /// Source document.
    pub reference: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Order of application.
    pub seq: Option<i64>,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
}

/// A live stock level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level {
    /// SKU.
    pub sku: String,
    /// Product name.
    pub name: String,
    /// Warehouse code.
    pub warehouse: String,
    /// Quantity on hand.
    pub quantity: Decimal,
    /// Weighted-average unit cost.
    pub unit_cost: Option<Decimal>,
    /// Stock value, rounded to cents.
    pub value: Option<Decimal>,
    /// Reorder level.
    pub min_stock_level: Decimal,
    /// Below the reorder level.
    pub below_minimum: bool,
}

/// Stock value per warehouse.
///
/// # Errors
/// The driver error (e.g. the view is not populated yet: run a refresh).
pub async fn valuation(client: &Client) -> Result<Vec<Valuation>, tokio_postgres::Error> {
    let rows = client.query(sql::VALUATION, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| Valuation {
            warehouse: r.get(0),
            name: r.get(1),
            products_in_stock: r.get(2),
            quantity: r.get(3),
            value: r.get(4),
            uncosted_rows: r.get(5),
            refreshed_at: r.get(6),
        })
        .collect())
}

/// Stock per product, most valuable first; `filter` matches a SKU prefix or a
/// name fragment.
///
/// # Errors
/// The driver error.
pub async fn summary(
    client: &Client,
    filter: Option<&str>,
    limit: i64,
) -> Result<Vec<ProductSummary>, tokio_postgres::Error> {
    let rows = client.query(sql::SUMMARY, &[&filter, &limit]).await?;
    Ok(rows
        .iter()
        .map(|r| ProductSummary {
            sku: r.get(0),
            name: r.get(1),
            brand: r.get(2),
            quantity: r.get(3),
            value: r.get(4),
            warehouses_in_stock: r.get(5),
            min_stock_level: r.get(6),
            below_minimum: r.get(7),
            refreshed_at: r.get(8),
        })
        .collect())
}

/// Low-stock alerts of `min` severity or worse, worst first.
///
/// # Errors
/// The driver error.
pub async fn low_stock(
    client: &Client,
    min: Severity,
    limit: i64,
) -> Result<Vec<Alert>, tokio_postgres::Error> {
    let labels: Vec<&str> = min.and_worse().into_iter().map(Severity::label).collect();
    let rows = client.query(sql::LOW_STOCK, &[&labels, &limit]).await?;
    Ok(rows
        .iter()
        .map(|r| Alert {
            sku: r.get(0),
            name: r.get(1),
            warehouse: r.get(2),
            quantity: r.get(3),
            min_stock_level: r.get(4),
            shortfall: r.get(5),
            severity: r.get(6),
            refreshed_at: r.get(7),
        })
        .collect())
}

/// The movements of a product, in the order they were applied.
///
/// # Errors
/// The driver error.
pub async fn history(
    client: &Client,
    sku: &str,
    warehouse: Option<&str>,
    limit: i64,
) -> Result<Vec<HistoryEntry>, tokio_postgres::Error> {
    let rows = client
        .query(sql::HISTORY, &[&sku, &warehouse, &limit])
        .await?;
    Ok(rows
        .iter()
        .map(|r| HistoryEntry {
            id: r.get(0),
            warehouse: r.get(1),
            movement_type: r.get(2),
            quantity: r.get(3),
            unit_cost: r.get(4),
            value_delta: r.get(5),
            quantity_after: r.get(6),
            value_after: r.get(7),
            reference: r.get(8),
            notes: r.get(9),
            seq: r.get(10),
            created_at: r.get(11),
        })
        .collect())
}

/// Live stock levels.
///
/// # Errors
/// The driver error.
pub async fn levels(
    client: &Client,
    sku: Option<&str>,
    warehouse: Option<&str>,
    limit: i64,
) -> Result<Vec<Level>, tokio_postgres::Error> {
    let rows = client
        .query(sql::LEVELS, &[&sku, &warehouse, &limit])
        .await?;
    Ok(rows
        .iter()
        .map(|r| Level {
            sku: r.get(0),
            name: r.get(1),
            warehouse: r.get(2),
            quantity: r.get(3),
            unit_cost: r.get(4),
            value: r.get(5),
            min_stock_level: r.get(6),
            below_minimum: r.get(7),
        })
        .collect())
}
