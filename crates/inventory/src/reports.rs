//! Reports: valuation per warehouse, stock summary per product and low-stock
//! alerts (from the materialized views, with when they were refreshed), and
//! the live stock levels and movement history of products.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::error::CatalogError;
use crate::kinds::{MovementType, MovementTypeText};
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

    /// The severity a view label names.
    pub fn from_label(label: &str) -> Option<Severity> {
        [Severity::OutOfStock, Severity::Critical, Severity::Low]
            .into_iter()
            .find(|s| s.label() == label)
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

/// The view's text label, read as the enum; an unknown label is an error,
/// not a panic.
impl<'a> FromSql<'a> for Severity {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Severity, Box<dyn std::error::Error + Sync + Send>> {
        let label = <&str as FromSql>::from_sql(ty, raw)?;
        Severity::from_label(label)
            .ok_or_else(|| format!("unknown low-stock severity {label:?}").into())
    }

    fn accepts(ty: &Type) -> bool {
        <&str as FromSql>::accepts(ty)
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
    /// How bad it is.
    pub severity: Severity,
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
    pub movement_type: MovementType,
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
    /// Read from the archive (`mantis ledger archive`).
    pub archived: bool,
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
    let rows = client.query_typed(sql::VALUATION, &[]).await?;
    rows.iter()
        .map(|r| {
            Ok(Valuation {
                warehouse: r.try_get("warehouse")?,
                name: r.try_get("name")?,
                products_in_stock: r.try_get("products_in_stock")?,
                quantity: r.try_get("quantity")?,
                value: r.try_get("value")?,
                uncosted_rows: r.try_get("uncosted_rows")?,
                refreshed_at: r.try_get("refreshed_at")?,
            })
        })
        .collect()
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
    let rows = client
        .query_typed(sql::SUMMARY, &[(&filter, Type::TEXT), (&limit, Type::INT8)])
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ProductSummary {
                sku: r.try_get("sku")?,
                name: r.try_get("name")?,
                brand: r.try_get("brand")?,
                quantity: r.try_get("quantity")?,
                value: r.try_get("value")?,
                warehouses_in_stock: r.try_get("warehouses_in_stock")?,
                min_stock_level: r.try_get("min_stock_level")?,
                below_minimum: r.try_get("below_minimum")?,
                refreshed_at: r.try_get("refreshed_at")?,
            })
        })
        .collect()
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
    let rows = client
        .query_typed(
            sql::LOW_STOCK,
            &[(&labels, Type::TEXT_ARRAY), (&limit, Type::INT8)],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Alert {
                sku: r.try_get("sku")?,
                name: r.try_get("name")?,
                warehouse: r.try_get("warehouse")?,
                quantity: r.try_get("quantity")?,
                min_stock_level: r.try_get("min_stock_level")?,
                shortfall: r.try_get("shortfall")?,
                severity: r.try_get("severity")?,
                refreshed_at: r.try_get("refreshed_at")?,
            })
        })
        .collect()
}

/// The movements of a product, in the order they were applied.
///
/// # Errors
/// [`CatalogError::NotFound`] for an unknown SKU or warehouse; the driver error.
pub async fn history(
    client: &Client,
    sku: &str,
    warehouse: Option<&str>,
    limit: i64,
) -> Result<Vec<HistoryEntry>, CatalogError> {
    let rows = client
        .query_typed(sql::HISTORY, &by_name(&sku, &warehouse, &limit))
        .await?;
    if rows.is_empty() {
        known(client, Some(sku), warehouse).await?;
    }
    let entries = rows.iter().map(|r| {
        Ok(HistoryEntry {
            id: r.try_get("id")?,
            warehouse: r.try_get("warehouse")?,
            movement_type: r.try_get::<_, MovementTypeText>("movement_type")?.0,
            quantity: r.try_get("quantity")?,
            unit_cost: r.try_get("unit_cost")?,
            value_delta: r.try_get("value_delta")?,
            quantity_after: r.try_get("quantity_after")?,
            value_after: r.try_get("value_after")?,
            reference: r.try_get("reference")?,
            notes: r.try_get("notes")?,
            seq: r.try_get("seq")?,
            created_at: r.try_get("created_at")?,
            archived: r.try_get("archived")?,
        })
    });
    Ok(entries.collect::<Result<_, tokio_postgres::Error>>()?)
}

/// Live stock levels.
///
/// # Errors
/// [`CatalogError::NotFound`] for an unknown SKU or warehouse; the driver error.
pub async fn levels(
    client: &Client,
    sku: Option<&str>,
    warehouse: Option<&str>,
    limit: i64,
) -> Result<Vec<Level>, CatalogError> {
    let rows = client
        .query_typed(sql::LEVELS, &by_name(&sku, &warehouse, &limit))
        .await?;
    if rows.is_empty() {
        known(client, sku, warehouse).await?;
    }
    let levels = rows.iter().map(|r| {
        Ok(Level {
            sku: r.try_get("sku")?,
            name: r.try_get("name")?,
            warehouse: r.try_get("warehouse")?,
            quantity: r.try_get("quantity")?,
            unit_cost: r.try_get("unit_cost")?,
            value: r.try_get("value")?,
            min_stock_level: r.try_get("min_stock_level")?,
            below_minimum: r.try_get("below_minimum")?,
        })
    });
    Ok(levels.collect::<Result<_, tokio_postgres::Error>>()?)
}

/// The parameters of a query by SKU and warehouse code (either may be
/// absent) with a row limit, typed for an unnamed statement.
fn by_name<'a>(
    sku: &'a (dyn tokio_postgres::types::ToSql + Sync),
    warehouse: &'a (dyn tokio_postgres::types::ToSql + Sync),
    limit: &'a (dyn tokio_postgres::types::ToSql + Sync),
) -> [(&'a (dyn tokio_postgres::types::ToSql + Sync), Type); 3] {
    [
        (sku, Type::TEXT),
        (warehouse, Type::TEXT),
        (limit, Type::INT8),
    ]
}

/// An empty answer about an unknown product or warehouse is a mistake in the
/// question, not "nothing": names the one that does not exist.
async fn known(
    client: &Client,
    sku: Option<&str>,
    warehouse: Option<&str>,
) -> Result<(), CatalogError> {
    let row = client
        .query_typed_one(
            sql::NAMES_KNOWN,
            &[(&sku, Type::TEXT), (&warehouse, Type::TEXT)],
        )
        .await?;
    if !row.try_get::<_, bool>("product_known")? {
        return Err(CatalogError::NotFound(format!(
            "unknown product SKU {:?}",
            sku.unwrap_or_default()
        )));
    }
    if !row.try_get::<_, bool>("warehouse_known")? {
        return Err(CatalogError::NotFound(format!(
            "unknown warehouse {:?}",
            warehouse.unwrap_or_default()
        )));
    }
    Ok(())
}
