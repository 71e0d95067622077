//! Posting movements: receipts, shipments, adjustments, transfers, returns
//! and write-offs, one or many in one transaction.
//!
//! The rules themselves live in the database (migration 004), so every client
//! gets them; this module is the typed way in. It checks each line before
//! anything is sent (clear errors, nothing posted), resolves SKUs and
//! warehouse codes, locks the stock rows the batch touches in one canonical
//! order (no deadlock between batches), inserts the movements in the order
//! given and commits. A deadlock or serialization failure is retried.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio_postgres::{Client, Transaction};
use uuid::Uuid;

use crate::decimal::{self, COST_SCALE, QUANTITY_SCALE};
use crate::error::{from_db, PostingError};
use crate::sql;

/// What a line of a batch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Goods in from a supplier, at their unit cost.
    Receipt,
    /// Goods out to a customer, at the current average cost.
    Shipment,
    /// A correction: a signed quantity (in at a given or the current cost, out at the current cost).
    Adjustment,
    /// From one warehouse to another, at the sender's average cost.
    Transfer,
    /// A customer return: in, at a given cost or the current average.
    Return,
    /// Goods sent back to the supplier: out, at the current average cost.
    SupplierReturn,
    /// Written off as damaged: out.
    WriteOff,
    /// Written off as stolen: out.
    Theft,
}

impl Kind {
    /// `(movement_type, reference_type)` labels of the database.
    fn labels(self) -> (&'static str, &'static str) {
        match self {
            Kind::Receipt => ("RECEIPT", "PURCHASE_ORDER"),
            Kind::Shipment => ("SHIPMENT", "SALES_ORDER"),
            Kind::Adjustment => ("ADJUSTMENT", "MANUAL_ADJUSTMENT"),
            Kind::Transfer => ("TRANSFER", "TRANSFER_ORDER"),
            Kind::Return => ("RETURN", "SALES_ORDER"),
            Kind::SupplierReturn => ("RETURN", "PURCHASE_ORDER"),
            Kind::WriteOff => ("DAMAGED", "MANUAL_ADJUSTMENT"),
            Kind::Theft => ("THEFT", "MANUAL_ADJUSTMENT"),
        }
    }

    /// Whether the line takes stock out (a given quantity is a magnitude).
    fn is_outbound(self) -> bool {
        matches!(
            self,
            Kind::Shipment | Kind::SupplierReturn | Kind::WriteOff | Kind::Theft | Kind::Transfer
        )
    }

    /// The name used in batch files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Receipt => "receipt",
            Kind::Shipment => "shipment",
            Kind::Adjustment => "adjustment",
            Kind::Transfer => "transfer",
            Kind::Return => "return",
            Kind::SupplierReturn => "supplier-return",
            Kind::WriteOff => "write-off",
            Kind::Theft => "theft",
        }
    }
}

/// One line of a batch. Quantities are magnitudes (> 0); only an adjustment
/// is signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Posting {
    /// What it does.
    pub kind: Kind,
    /// Product, by SKU.
    pub sku: String,
    /// Warehouse, by code (for a transfer: the sending one).
    pub warehouse: String,
    /// For a transfer: the receiving warehouse.
    #[serde(default, deserialize_with = "empty_is_none")]
    pub to_warehouse: Option<String>,
    /// Quantity (numeric(18,4)).
    #[serde(deserialize_with = "decimal::exact")]
    pub quantity: Decimal,
    /// Unit cost of what comes in (numeric(20,6)); never for what goes out.
    #[serde(default, deserialize_with = "decimal::exact_opt")]
    pub unit_cost: Option<Decimal>,
    /// Source document number (PO-1001, SO-2001, TO-7…).
    #[serde(default, deserialize_with = "empty_is_none")]
    pub reference: Option<String>,
    /// Line of the source document: with `reference`, makes the idempotency key.
    #[serde(default)]
    pub line: Option<u32>,
    /// Explicit idempotency key (otherwise kind:reference:line when both are given).
    #[serde(default, deserialize_with = "empty_is_none")]
    pub idempotency_key: Option<String>,
    /// Free text.
    #[serde(default, deserialize_with = "empty_is_none")]
    pub notes: Option<String>,
}

fn empty_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value: Option<String> = Option::deserialize(d)?;
    Ok(value.filter(|s| !s.trim().is_empty()))
}

impl Posting {
    /// A line with only the required fields.
    pub fn new(kind: Kind, sku: &str, warehouse: &str, quantity: Decimal) -> Posting {
        Posting {
            kind,
            sku: sku.to_string(),
            warehouse: warehouse.to_string(),
            to_warehouse: None,
            quantity,
            unit_cost: None,
            reference: None,
            line: None,
            idempotency_key: None,
            notes: None,
        }
    }

    /// With a unit cost.
    pub fn at(mut self, unit_cost: Decimal) -> Posting {
        self.unit_cost = Some(unit_cost);
        self
    }

    /// With a receiving warehouse (transfers).
    pub fn to(mut self, warehouse: &str) -> Posting {
        self.to_warehouse = Some(warehouse.to_string());
        self
    }

    /// With a source document and line (which make the idempotency key).
    pub fn reference(mut self, reference: &str, line: Option<u32>) -> Posting {
        self.reference = Some(reference.to_string());
        self.line = line;
        self
    }

    /// Why this line cannot be posted, before anything is sent.
    pub fn problem(&self) -> Option<String> {
        if self.sku.trim().is_empty() {
            return Some("the product SKU is empty".into());
        }
        if self.warehouse.trim().is_empty() {
            return Some("the warehouse code is empty".into());
        }
        if self.quantity.is_zero() {
            return Some("quantity is 0: a movement must move something".into());
        }
        if self.kind != Kind::Adjustment && self.quantity.is_sign_negative() {
            return Some(format!(
                "quantity {} is negative: give the magnitude; a {} already says which way stock goes (only an adjustment is signed)",
                self.quantity,
                self.kind.name()
            ));
        }
        if let Some(problem) = decimal::fit("quantity", self.quantity, QUANTITY_SCALE) {
            return Some(problem);
        }
        if let Some(cost) = self.unit_cost {
            if cost.is_sign_negative() && !cost.is_zero() {
                return Some(format!("unit cost {cost} is negative"));
            }
            if let Some(problem) = decimal::fit("unit cost", cost, COST_SCALE) {
                return Some(problem);
            }
            if self.kind.is_outbound()
                || (self.kind == Kind::Adjustment && self.quantity.is_sign_negative())
            {
                return Some(format!(
                    "a {} takes stock out at the current average cost; leave the unit cost out",
                    self.kind.name()
                ));
            }
        }
        match (&self.to_warehouse, self.kind) {
            (None, Kind::Transfer) => {
                return Some("a transfer needs the receiving warehouse (to_warehouse)".into())
            }
            (Some(to), Kind::Transfer) if to == &self.warehouse => {
                return Some(format!("a transfer from {to} to {to} moves nothing"))
            }
            (Some(_), kind) if kind != Kind::Transfer => {
                return Some(format!(
                    "to_warehouse is only for transfers, not for a {}",
                    kind.name()
                ))
            }
            _ => {}
        }
        if self.line.is_some() && self.reference.is_none() {
            return Some("a line number needs the reference of its document".into());
        }
        None
    }

    /// The idempotency key: explicit, or kind:reference:line.
    pub fn key(&self) -> Option<String> {
        self.idempotency_key.clone().or_else(|| {
            let reference = self.reference.as_ref()?;
            Some(format!("{}:{reference}:{}", self.kind.name(), self.line?))
        })
    }
}

/// One movement the database recorded (or skipped as already posted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Posted {
    /// 1-based line of the batch.
    pub line: usize,
    /// Movement id.
    pub id: Uuid,
    /// Product SKU.
    pub sku: String,
    /// Warehouse code.
    pub warehouse: String,
    /// Movement type label.
    pub movement_type: &'static str,
    /// Signed quantity.
    pub quantity: Decimal,
    /// Unit cost it was valued at (None while the stock has no cost).
    pub unit_cost: Option<Decimal>,
    /// Change of the stock row's value.
    pub value_delta: Option<Decimal>,
    /// Order of application.
    pub seq: Option<i64>,
    /// False when the line was posted before (same idempotency key): nothing changed.
    pub applied: bool,
}

/// A movement row ready to insert.
#[derive(Debug, Clone)]
struct Row {
    line: usize,
    id: Uuid,
    sku: String,
    warehouse: String,
    product_id: Uuid,
    warehouse_id: Uuid,
    movement_type: &'static str,
    quantity: Decimal,
    unit_cost: Option<Decimal>,
    reference_type: Option<&'static str>,
    reference_id: Option<Uuid>,
    reference_number: Option<String>,
    notes: Option<String>,
    idempotency_key: Option<String>,
}

/// Attempts of a batch that failed with a deadlock or serialization failure.
const ATTEMPTS: u32 = 3;

/// Posts a batch in one transaction: all lines or none.
///
/// # Errors
/// [`PostingError`]; nothing was posted.
pub async fn post(client: &mut Client, postings: &[Posting]) -> Result<Vec<Posted>, PostingError> {
    if postings.is_empty() {
        return Err(PostingError::Empty);
    }
    for (i, p) in postings.iter().enumerate() {
        if let Some(problem) = p.problem() {
            return Err(PostingError::Invalid {
                line: i + 1,
                problem,
            });
        }
    }
    let mut attempt = 1;
    loop {
        match post_once(client, postings).await {
            Err(PostingError::Database(e)) if attempt < ATTEMPTS && retryable(&e) => {
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn retryable(e: &tokio_postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED
            || *c == tokio_postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
    })
}

async fn post_once(client: &mut Client, postings: &[Posting]) -> Result<Vec<Posted>, PostingError> {
    let tx = client.transaction().await.map_err(PostingError::Database)?;
    let rows = expand(&tx, postings).await?;
    lock(&tx, &rows).await?;
    let posted = insert(&tx, &rows).await?;
    tx.commit().await.map_err(from_db)?;
    Ok(posted)
}

/// Resolves SKUs and codes, and turns lines into movement rows (two for a transfer).
async fn expand(tx: &Transaction<'_>, postings: &[Posting]) -> Result<Vec<Row>, PostingError> {
    let skus: Vec<&str> = postings.iter().map(|p| p.sku.as_str()).collect();
    let codes: Vec<&str> = postings
        .iter()
        .flat_map(|p| std::iter::once(p.warehouse.as_str()).chain(p.to_warehouse.as_deref()))
        .collect();
    let products = ids(tx, sql::RESOLVE_PRODUCTS, &skus).await?;
    let warehouses = ids(tx, sql::RESOLVE_WAREHOUSES, &codes).await?;
    let mut rows = Vec::with_capacity(postings.len() + 1);
    for (i, p) in postings.iter().enumerate() {
        let line = i + 1;
        let product_id = *products
            .get(&p.sku)
            .ok_or_else(|| PostingError::UnknownProduct {
                line,
                sku: p.sku.clone(),
            })?;
        let warehouse = |code: &String| {
            warehouses
                .get(code)
                .copied()
                .ok_or_else(|| PostingError::UnknownWarehouse {
                    line,
                    code: code.clone(),
                })
        };
        let (movement_type, reference_type) = p.kind.labels();
        let base = Row {
            line,
            id: Uuid::new_v4(),
            sku: p.sku.clone(),
            warehouse: p.warehouse.clone(),
            product_id,
            warehouse_id: warehouse(&p.warehouse)?,
            movement_type,
            quantity: if p.kind.is_outbound() {
                -p.quantity
            } else {
                p.quantity
            },
            unit_cost: p.unit_cost,
            reference_type: p.reference.as_ref().map(|_| reference_type),
            reference_id: None,
            reference_number: p.reference.clone(),
            notes: p.notes.clone(),
            idempotency_key: p.key(),
        };
        match (&p.to_warehouse, p.kind) {
            (Some(to), Kind::Transfer) => {
                let reference_id = Some(Uuid::new_v4());
                let receiving = Row {
                    id: Uuid::new_v4(),
                    warehouse: to.clone(),
                    warehouse_id: warehouse(to)?,
                    quantity: p.quantity,
                    reference_type: Some(reference_type),
                    reference_id,
                    idempotency_key: base.idempotency_key.as_ref().map(|k| format!("{k}:in")),
                    ..base.clone()
                };
                rows.push(Row {
                    reference_type: Some(reference_type),
                    reference_id,
                    idempotency_key: base.idempotency_key.as_ref().map(|k| format!("{k}:out")),
                    ..base
                });
                rows.push(receiving);
            }
            _ => rows.push(base),
        }
    }
    Ok(rows)
}

async fn ids(
    tx: &Transaction<'_>,
    query: &str,
    keys: &[&str],
) -> Result<HashMap<String, Uuid>, PostingError> {
    let found = tx.query(query, &[&keys]).await.map_err(from_db)?;
    Ok(found.iter().map(|r| (r.get(0), r.get(1))).collect())
}

async fn lock(tx: &Transaction<'_>, rows: &[Row]) -> Result<(), PostingError> {
    let products: Vec<Uuid> = rows.iter().map(|r| r.product_id).collect();
    let warehouses: Vec<Uuid> = rows.iter().map(|r| r.warehouse_id).collect();
    tx.query_one(sql::LOCK_KEYS, &[&products, &warehouses])
        .await
        .map_err(from_db)?;
    tx.query(sql::LOCK_ROWS, &[&products, &warehouses])
        .await
        .map_err(from_db)?;
    Ok(())
}

async fn insert(tx: &Transaction<'_>, rows: &[Row]) -> Result<Vec<Posted>, PostingError> {
    let col = |f: &dyn Fn(&Row) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let products: Vec<Uuid> = rows.iter().map(|r| r.product_id).collect();
    let warehouses: Vec<Uuid> = rows.iter().map(|r| r.warehouse_id).collect();
    let types = col(&|r| Some(r.movement_type.to_string()));
    let quantities: Vec<Decimal> = rows.iter().map(|r| r.quantity).collect();
    let costs: Vec<Option<Decimal>> = rows.iter().map(|r| r.unit_cost).collect();
    let ref_types = col(&|r| r.reference_type.map(str::to_string));
    let ref_ids: Vec<Option<Uuid>> = rows.iter().map(|r| r.reference_id).collect();
    let numbers = col(&|r| r.reference_number.clone());
    let notes = col(&|r| r.notes.clone());
    let keys = col(&|r| r.idempotency_key.clone());
    let reverses: Vec<Option<Uuid>> = vec![None; rows.len()];
    let returned = tx
        .query(
            sql::POST_MOVEMENTS,
            &[
                &ids,
                &products,
                &warehouses,
                &types,
                &quantities,
                &costs,
                &ref_types,
                &ref_ids,
                &numbers,
                &notes,
                &keys,
                &reverses,
            ],
        )
        .await
        .map_err(from_db)?;
    let by_id: HashMap<Uuid, &tokio_postgres::Row> =
        returned.iter().map(|r| (r.get::<_, Uuid>(0), r)).collect();
    Ok(rows
        .iter()
        .map(|r| {
            let stored = by_id.get(&r.id);
            Posted {
                line: r.line,
                id: r.id,
                sku: r.sku.clone(),
                warehouse: r.warehouse.clone(),
                movement_type: r.movement_type,
                quantity: r.quantity,
                unit_cost: stored.and_then(|s| s.get(2)),
                value_delta: stored.and_then(|s| s.get(3)),
                seq: stored.and_then(|s| s.get(1)),
                applied: stored.is_some(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(kind: Kind, quantity: i64) -> Posting {
        Posting::new(kind, "SKU-1", "JHB", Decimal::from(quantity))
    }

    #[test]
    fn lines_are_checked_before_anything_is_sent() {
        let cases = [
            (line(Kind::Receipt, 0), "quantity is 0"),
            (line(Kind::Shipment, -3), "give the magnitude"),
            (line(Kind::Receipt, 1).at(Decimal::new(-1, 0)), "negative"),
            (
                line(Kind::Shipment, 1).at(Decimal::ONE),
                "leave the unit cost out",
            ),
            (
                line(Kind::Adjustment, -1).at(Decimal::ONE),
                "leave the unit cost out",
            ),
            (line(Kind::Transfer, 1), "needs the receiving warehouse"),
            (line(Kind::Transfer, 1).to("JHB"), "moves nothing"),
            (line(Kind::Receipt, 1).to("CPT"), "only for transfers"),
            (
                Posting::new(Kind::Receipt, "SKU-1", "JHB", Decimal::new(1, 5)),
                "decimal places",
            ),
            (
                line(Kind::Receipt, 1).at(Decimal::new(1, 7)),
                "decimal places",
            ),
            (line(Kind::Receipt, 100_000_000_000_000), "too large"),
            (
                Posting::new(Kind::Receipt, " ", "JHB", Decimal::ONE),
                "SKU is empty",
            ),
        ];
        for (posting, expected) in cases {
            let problem = posting.problem().unwrap_or_default();
            assert!(problem.contains(expected), "{posting:?}: {problem:?}");
        }
        assert_eq!(line(Kind::Adjustment, -2).problem(), None);
        assert_eq!(line(Kind::Transfer, 2).to("CPT").problem(), None);
    }

    #[test]
    fn the_idempotency_key_is_explicit_or_kind_reference_and_line() {
        assert_eq!(line(Kind::Receipt, 1).key(), None);
        assert_eq!(line(Kind::Receipt, 1).reference("PO-7", None).key(), None);
        assert_eq!(
            line(Kind::Receipt, 1)
                .reference("PO-7", Some(3))
                .key()
                .as_deref(),
            Some("receipt:PO-7:3")
        );
        let mut explicit = line(Kind::Receipt, 1);
        explicit.idempotency_key = Some("erp-991".into());
        assert_eq!(explicit.key().as_deref(), Some("erp-991"));
    }
}
