//! Posting movements: receipts, shipments, adjustments, transfers, returns
//! and write-offs, one or many in one transaction.
//!
//! The rules themselves live in the database (migration 004), so every client
//! gets them; this module is the typed way in. It checks each line before
//! anything is sent (clear errors, nothing posted); then it posts the batch
//! with one statement, `core.post_movements` (migration 005), which creates
//! and locks the stock rows the batch touches in one canonical order (no
//! deadlock between batches), applies the lines in the order given, set-based,
//! and writes each stock row once. A deadlock or serialization
//! failure is retried. (See [`Poster`].)

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::decimal::{self, COST_SCALE, QUANTITY_SCALE};
use crate::error::{from_db, PostingError};
use crate::kinds::MovementType;
use crate::statements::{Statements, Which};

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
    /// The movement type and the reference type label of the database.
    fn labels(self) -> (MovementType, &'static str) {
        match self {
            Kind::Receipt => (MovementType::Receipt, "PURCHASE_ORDER"),
            Kind::Shipment => (MovementType::Shipment, "SALES_ORDER"),
            Kind::Adjustment => (MovementType::Adjustment, "MANUAL_ADJUSTMENT"),
            Kind::Transfer => (MovementType::Transfer, "TRANSFER_ORDER"),
            Kind::Return => (MovementType::Return, "SALES_ORDER"),
            Kind::SupplierReturn => (MovementType::Return, "PURCHASE_ORDER"),
            Kind::WriteOff => (MovementType::Damaged, "MANUAL_ADJUSTMENT"),
            Kind::Theft => (MovementType::Theft, "MANUAL_ADJUSTMENT"),
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
        self.text_problem()
            .or_else(|| self.quantity_problem())
            .or_else(|| self.cost_problem())
            .or_else(|| self.transfer_problem())
            .or_else(|| {
                (self.line.is_some() && self.reference.is_none())
                    .then(|| "a line number needs the reference of its document".into())
            })
    }

    /// A missing name, or a NUL character PostgreSQL text cannot hold.
    fn text_problem(&self) -> Option<String> {
        if let Some(field) = self.field_with_nul() {
            return Some(format!(
                "{field} contains a NUL character (\\0), which PostgreSQL text cannot hold; remove it"
            ));
        }
        if self.sku.trim().is_empty() {
            return Some("the product SKU is empty".into());
        }
        if self.warehouse.trim().is_empty() {
            return Some("the warehouse code is empty".into());
        }
        None
    }

    /// A zero quantity, a sign the movement type contradicts, or more
    /// decimals than the column holds.
    fn quantity_problem(&self) -> Option<String> {
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
        decimal::fit("quantity", self.quantity, QUANTITY_SCALE)
    }

    /// A negative or too precise unit cost, or one given where stock leaves
    /// at the current average.
    fn cost_problem(&self) -> Option<String> {
        let cost = self.unit_cost?;
        if cost.is_sign_negative() && !cost.is_zero() {
            return Some(format!("unit cost {cost} is negative"));
        }
        if let Some(problem) = decimal::fit("unit cost", cost, COST_SCALE) {
            return Some(problem);
        }
        let outbound = self.kind.is_outbound()
            || (self.kind == Kind::Adjustment && self.quantity.is_sign_negative());
        outbound.then(|| {
            format!(
                "a {} takes stock out at the current average cost; leave the unit cost out",
                self.kind.name()
            )
        })
    }

    /// A transfer without a distinct receiving warehouse, or a receiving
    /// warehouse on something that is not a transfer.
    fn transfer_problem(&self) -> Option<String> {
        match (&self.to_warehouse, self.kind) {
            (None, Kind::Transfer) => {
                Some("a transfer needs the receiving warehouse (to_warehouse)".into())
            }
            (Some(to), Kind::Transfer) if to == &self.warehouse => {
                Some(format!("a transfer from {to} to {to} moves nothing"))
            }
            (Some(_), kind) if kind != Kind::Transfer => Some(format!(
                "to_warehouse is only for transfers, not for a {}",
                kind.name()
            )),
            _ => None,
        }
    }

    /// The first text field holding a NUL character, by name.
    fn field_with_nul(&self) -> Option<&'static str> {
        let fields = [
            ("sku", Some(&self.sku)),
            ("warehouse", Some(&self.warehouse)),
            ("to_warehouse", self.to_warehouse.as_ref()),
            ("reference", self.reference.as_ref()),
            ("idempotency_key", self.idempotency_key.as_ref()),
            ("notes", self.notes.as_ref()),
        ];
        fields
            .into_iter()
            .find(|(_, text)| text.is_some_and(|t| t.contains('\0')))
            .map(|(name, _)| name)
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
    /// Movement type.
    pub movement_type: MovementType,
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

/// A movement row ready to insert, naming its product and warehouse.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    line: usize,
    id: Uuid,
    sku: String,
    warehouse: String,
    movement_type: MovementType,
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

/// Posts a batch in one transaction: all lines or none, its statements sent
/// unnamed (one round trip; works through a transaction-mode pooler). To
/// post many batches on a connection of its own, prepare them once with
/// [`Poster::prepare`].
///
/// # Errors
/// [`PostingError`]; nothing was posted.
pub async fn post(client: &Client, postings: &[Posting]) -> Result<Vec<Posted>, PostingError> {
    let rows = checked(postings)?;
    Poster::unnamed().post_rows(client, &rows).await
}

/// The batch's movement rows, once every line is known to be valid.
fn checked(postings: &[Posting]) -> Result<Vec<Row>, PostingError> {
    if postings.is_empty() {
        return Err(PostingError::Empty);
    }
    checked_from(postings, 1)
}

/// The movement rows of lines numbered from `first_line`, once every one of
/// them is known to be valid.
pub(crate) fn checked_from(
    postings: &[Posting],
    first_line: usize,
) -> Result<Vec<Row>, PostingError> {
    for (i, p) in postings.iter().enumerate() {
        if let Some(problem) = p.problem() {
            return Err(PostingError::Invalid {
                line: first_line + i,
                problem,
            });
        }
    }
    Ok(expand(postings, first_line))
}

/// The posting statements on one connection. A batch is one statement and
/// one round trip: `core.post_movements` (migration 005) applies the ledger's
/// rules set-based, locking the stock rows in key order. SKUs and codes are
/// looked up again only to name an unknown one after the batch was refused.
pub struct Poster {
    statements: Statements,
}

impl Poster {
    /// Prepares the statements on `client` (one round trip): each batch is
    /// then planned once. Needs a connection of its own for as long as the
    /// poster is used: not through a transaction-mode pooler (use
    /// [`Poster::unnamed`]).
    ///
    /// # Errors
    /// The driver error (e.g. the database is not at migration 004).
    pub async fn prepare(client: &Client) -> Result<Poster, PostingError> {
        let statements = Statements::prepare(client).await.map_err(from_db)?;
        Ok(Poster { statements })
    }

    /// A poster that sends its statements unnamed, parsed with each batch:
    /// no round trip first, and it works through a transaction-mode pooler.
    pub fn unnamed() -> Poster {
        Poster {
            statements: Statements::Unnamed,
        }
    }

    /// Posts a batch in one transaction: all lines or none.
    ///
    /// # Errors
    /// [`PostingError`]; nothing was posted.
    pub async fn post(
        &self,
        client: &Client,
        postings: &[Posting],
    ) -> Result<Vec<Posted>, PostingError> {
        self.post_rows(client, &checked(postings)?).await
    }

    async fn post_rows(&self, client: &Client, rows: &[Row]) -> Result<Vec<Posted>, PostingError> {
        let mut attempt = 1;
        loop {
            match self.post_once(client, rows).await {
                Err(PostingError::Database(e)) if attempt < ATTEMPTS && retryable(&e) => {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn post_once(&self, client: &Client, rows: &[Row]) -> Result<Vec<Posted>, PostingError> {
        let args = Args::of(rows);
        match self
            .statements
            .query(client, which(&args), &args.params())
            .await
        {
            Ok(returned) => posted(rows, &returned).map_err(from_db),
            // An unknown SKU or warehouse code: name it.
            Err(e) => Err(self.name_the_unknown(client, rows, e).await),
        }
    }
}

impl Poster {
    /// In the caller's open transaction: the movements of `rows` posted (one
    /// statement). A product or warehouse that does not exist comes back as
    /// the driver error (the transaction is then aborted: roll back, then
    /// [`Poster::name_the_unknown`]).
    pub(crate) async fn post_in_transaction(
        &self,
        client: &Client,
        rows: &[Row],
    ) -> Result<Vec<Posted>, tokio_postgres::Error> {
        let args = Args::of(rows);
        let returned = self
            .statements
            .query(client, which(&args), &args.params())
            .await?;
        posted(rows, &returned)
    }

    /// The error of an insert that failed: the first line naming a product
    /// or warehouse that does not exist, else the database's error. Runs
    /// outside a transaction (the failed one is over).
    pub(crate) async fn name_the_unknown(
        &self,
        client: &Client,
        rows: &[Row],
        e: tokio_postgres::Error,
    ) -> PostingError {
        if !names_missing(&e) {
            return from_db(e);
        }
        let args = Args::of(rows);
        match self
            .statements
            .query(client, Which::Resolve, &[&args.skus, &args.codes])
            .await
        {
            Ok(found) => match unknown(rows, &found) {
                Ok(()) => from_db(e),
                Err(named) => named,
            },
            Err(lookup) => from_db(lookup),
        }
    }
}

/// How a batch is posted, in one statement atomic by itself: lines on one
/// stock row are inserted and the posting trigger (004) applies each under
/// the row's lock; lines on several go to `core.post_movements` (005), which
/// locks the rows in key order, folds the lines in order and writes each row
/// once.
fn which(args: &Args) -> Which {
    let first = (args.skus.first(), args.codes.first());
    let one_row = args
        .skus
        .iter()
        .zip(&args.codes)
        .all(|(s, c)| (Some(s), Some(c)) == first);
    if one_row {
        Which::Insert
    } else {
        Which::Post
    }
}

/// The insert's parameters for a set of rows.
struct Args<'a> {
    skus: Vec<&'a str>,
    codes: Vec<&'a str>,
    columns: Columns,
}

impl<'a> Args<'a> {
    fn of(rows: &'a [Row]) -> Args<'a> {
        Args {
            skus: rows.iter().map(|r| r.sku.as_str()).collect(),
            codes: rows.iter().map(|r| r.warehouse.as_str()).collect(),
            columns: Columns::of(rows),
        }
    }

    /// In the order of `post_movements.sql`.
    fn params(&self) -> [&(dyn ToSql + Sync); 11] {
        let c = &self.columns;
        [
            &c.ids,
            &self.skus,
            &self.codes,
            &c.types,
            &c.quantities,
            &c.costs,
            &c.ref_types,
            &c.ref_ids,
            &c.numbers,
            &c.notes,
            &c.keys,
        ]
    }
}

/// The insert found no id for a product or warehouse: the posting trigger
/// refuses it (23503), or the NOT NULL constraint does (23502).
fn names_missing(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::NOT_NULL_VIOLATION || *c == SqlState::FOREIGN_KEY_VIOLATION
    })
}

fn retryable(e: &tokio_postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED
            || *c == tokio_postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
    })
}

/// The first line naming a product or warehouse that does not exist.
fn unknown(rows: &[Row], found: &[tokio_postgres::Row]) -> Result<(), PostingError> {
    let known: HashSet<(String, String)> = found
        .iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("name")?)))
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(from_db)?;
    let has = |kind: &str, name: &str| known.contains(&(kind.to_string(), name.to_string()));
    for r in rows {
        if !has("product", &r.sku) {
            return Err(PostingError::UnknownProduct {
                line: r.line,
                sku: r.sku.clone(),
            });
        }
        if !has("warehouse", &r.warehouse) {
            return Err(PostingError::UnknownWarehouse {
                line: r.line,
                code: r.warehouse.clone(),
            });
        }
    }
    Ok(())
}

/// Lines (numbered from `first_line`) turned into movement rows (two for a transfer).
fn expand(postings: &[Posting], first_line: usize) -> Vec<Row> {
    let mut rows = Vec::with_capacity(postings.len() + 1);
    for (i, p) in postings.iter().enumerate() {
        let (movement_type, reference_type) = p.kind.labels();
        let base = Row {
            line: first_line + i,
            id: Uuid::new_v4(),
            sku: p.sku.clone(),
            warehouse: p.warehouse.clone(),
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
    rows
}

/// The rows as the insert's column arrays.
struct Columns {
    ids: Vec<Uuid>,
    types: Vec<&'static str>,
    quantities: Vec<Decimal>,
    costs: Vec<Option<Decimal>>,
    ref_types: Vec<Option<&'static str>>,
    ref_ids: Vec<Option<Uuid>>,
    numbers: Vec<Option<String>>,
    notes: Vec<Option<String>>,
    keys: Vec<Option<String>>,
}

impl Columns {
    fn of(rows: &[Row]) -> Columns {
        Columns {
            ids: rows.iter().map(|r| r.id).collect(),
            types: rows.iter().map(|r| r.movement_type.label()).collect(),
            quantities: rows.iter().map(|r| r.quantity).collect(),
            costs: rows.iter().map(|r| r.unit_cost).collect(),
            ref_types: rows.iter().map(|r| r.reference_type).collect(),
            ref_ids: rows.iter().map(|r| r.reference_id).collect(),
            numbers: rows.iter().map(|r| r.reference_number.clone()).collect(),
            notes: rows.iter().map(|r| r.notes.clone()).collect(),
            keys: rows.iter().map(|r| r.idempotency_key.clone()).collect(),
        }
    }
}

/// What the ledger stored for an inserted movement (RETURNING).
struct Stored {
    seq: Option<i64>,
    unit_cost: Option<Decimal>,
    value_delta: Option<Decimal>,
}

/// Each line with what the ledger stored for it; a line the ledger skipped
/// (idempotent repeat) is absent from RETURNING and not applied.
fn posted(
    rows: &[Row],
    returned: &[tokio_postgres::Row],
) -> Result<Vec<Posted>, tokio_postgres::Error> {
    let mut by_id: HashMap<Uuid, Stored> = HashMap::with_capacity(returned.len());
    for r in returned {
        let stored = Stored {
            seq: r.try_get("seq")?,
            unit_cost: r.try_get("cost_price")?,
            value_delta: r.try_get("value_delta")?,
        };
        by_id.insert(r.try_get("id")?, stored);
    }
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
                unit_cost: stored.and_then(|s| s.unit_cost),
                value_delta: stored.and_then(|s| s.value_delta),
                seq: stored.and_then(|s| s.seq),
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
            (
                Posting::new(Kind::Receipt, "SKU\u{0}1", "JHB", Decimal::ONE),
                "sku contains a NUL character",
            ),
            (
                line(Kind::Receipt, 1).reference("PO\u{0}", None),
                "reference contains a NUL character",
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
