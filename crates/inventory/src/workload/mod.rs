//! An application workload: what the shop does to stock while a migration
//! runs. Several connections post receipts and shipments through the ledger
//! and write quantities directly (legacy code), at a set rate, on random
//! stock rows; each operation is timed. Afterwards [`check`] says whether
//! anything was lost or counted twice.
//!
//! Before the ledger exists (migration 003 not yet past its phase 2), a
//! receipt or shipment is written the legacy way, directly: the application
//! of before the migration.

mod check;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde::Serialize;
use tokio_postgres::Client;
use uuid::Uuid;

pub use check::{check, Invariant};

const ROWS: &str = include_str!("../../sql/workload/rows.sql");
const RECEIPT: &str = include_str!("../../sql/workload/receipt.sql");
const SHIPMENT: &str = include_str!("../../sql/workload/shipment.sql");
const DIRECT: &str = include_str!("../../sql/workload/direct.sql");

/// How hard the workload pushes.
#[derive(Debug, Clone)]
pub struct WorkloadSpec {
    /// Connections, each running operations one after the other.
    pub clients: usize,
    /// Operations per second, all connections together.
    pub rate: f64,
    /// Stock rows it picks from (a random sample of the table).
    pub rows: usize,
    /// Seed of the random choices.
    pub seed: u64,
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            clients: 4,
            rate: 100.0,
            rows: 10_000,
            seed: 1,
        }
    }
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// A RECEIPT through the ledger.
    Receipt,
    /// A SHIPMENT of one unit through the ledger.
    Shipment,
    /// `UPDATE core.stock_on_hand SET quantity = quantity + n`.
    DirectWrite,
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Committed.
    Applied,
    /// Refused by a rule of the books (e.g. insufficient stock): nothing changed.
    Refused,
    /// Failed otherwise (rolled back), with the server's message.
    Failed(String),
}

/// One timed operation.
#[derive(Debug, Clone)]
pub struct Op {
    /// When it was sent.
    pub at: Instant,
    /// How long it took.
    pub took: Duration,
    /// What it did.
    pub kind: OpKind,
    /// The stock row (`core.stock_on_hand.id`).
    pub stock_row: Uuid,
    /// The quantity it moved (signed).
    pub quantity: Decimal,
    /// Whether it went through the ledger (a movement), or was written
    /// directly (a direct write, or a posting before the ledger existed).
    pub through_ledger: bool,
    /// How it ended.
    pub outcome: Outcome,
}

/// A stock row the workload writes to, as it was before.
#[derive(Debug, Clone)]
struct StockRow {
    id: Uuid,
    product_id: Uuid,
    warehouse_id: Uuid,
    before: Decimal,
}

/// The rows the workload will write to.
#[derive(Debug, Clone)]
pub struct Workload {
    rows: Arc<Vec<StockRow>>,
}

/// What one connection did.
#[derive(Debug, Clone, Default)]
pub struct ClientLog {
    /// Its operations, in order.
    pub ops: Vec<Op>,
    /// Net quantity applied per row (index into the sample).
    deltas: HashMap<usize, Decimal>,
    /// Rows whose last operation's outcome is unknown (connection lost).
    uncertain: HashSet<usize>,
}

impl Workload {
    /// Picks about `spec.rows` random stock rows and remembers their quantity.
    ///
    /// # Errors
    /// The database's, reading the sample.
    pub async fn prepare(
        client: &Client,
        spec: &WorkloadSpec,
    ) -> Result<Workload, tokio_postgres::Error> {
        let limit = i64::try_from(spec.rows).unwrap_or(i64::MAX);
        let rows = client
            .query(ROWS, &[&limit])
            .await?
            .iter()
            .map(|r| {
                Ok(StockRow {
                    id: r.try_get("id")?,
                    product_id: r.try_get("product_id")?,
                    warehouse_id: r.try_get("warehouse_id")?,
                    before: r.try_get("quantity")?,
                })
            })
            .collect::<Result<_, tokio_postgres::Error>>()?;
        Ok(Workload {
            rows: Arc::new(rows),
        })
    }

    /// How many rows it writes to.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// Runs operations on `client` at this client's share of the rate until
    /// `stop` is set.
    pub async fn drive(
        &self,
        client: Client,
        index: usize,
        spec: &WorkloadSpec,
        stop: Arc<AtomicBool>,
    ) -> ClientLog {
        let mut log = ClientLog::default();
        if self.rows.is_empty() {
            return log;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed.wrapping_add(index as u64));
        let every = Duration::from_secs_f64(spec.clients.max(1) as f64 / spec.rate.max(0.001));
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let row = rng.gen_range(0..self.rows.len());
            let kind = match rng.gen_range(0..10) {
                0..=3 => OpKind::Receipt,
                4..=6 => OpKind::Shipment,
                _ => OpKind::DirectWrite,
            };
            let quantity = match kind {
                OpKind::Shipment => Decimal::NEGATIVE_ONE,
                _ => Decimal::from(rng.gen_range(1..=5)),
            };
            let cost = Decimal::new(rng.gen_range(100..10_000), 2);
            let (result, through_ledger) = self.apply(&client, kind, row, quantity, cost).await;
            let outcome = log.record(row, quantity, result);
            let lost = client.is_closed();
            log.ops.push(Op {
                at: started,
                took: started.elapsed(),
                kind,
                stock_row: self.rows[row].id,
                quantity,
                through_ledger,
                outcome,
            });
            if lost {
                log.uncertain.insert(row);
                break;
            }
            tokio::time::sleep(every.saturating_sub(started.elapsed())).await;
        }
        log
    }

    async fn apply(
        &self,
        client: &Client,
        kind: OpKind,
        row: usize,
        quantity: Decimal,
        cost: Decimal,
    ) -> (Result<u64, tokio_postgres::Error>, bool) {
        let r = &self.rows[row];
        let posted = match kind {
            OpKind::Receipt => {
                client
                    .execute(RECEIPT, &[&r.product_id, &r.warehouse_id, &quantity, &cost])
                    .await
            }
            OpKind::Shipment => {
                client
                    .execute(SHIPMENT, &[&r.product_id, &r.warehouse_id, &quantity])
                    .await
            }
            OpKind::DirectWrite => {
                return (client.execute(DIRECT, &[&r.id, &quantity]).await, false)
            }
        };
        match posted {
            // No ledger yet: the application of before the migration.
            Err(e) if sqlstate(&e) == Some(SqlState::UNDEFINED_TABLE.code()) => {
                (client.execute(DIRECT, &[&r.id, &quantity]).await, false)
            }
            other => (other, true),
        }
    }
}

impl ClientLog {
    fn record(
        &mut self,
        row: usize,
        quantity: Decimal,
        result: Result<u64, tokio_postgres::Error>,
    ) -> Outcome {
        match result {
            Ok(n) if n > 0 => {
                *self.deltas.entry(row).or_default() += quantity;
                Outcome::Applied
            }
            Ok(_) => Outcome::Refused,
            Err(e) if sqlstate(&e) == Some(SqlState::CHECK_VIOLATION.code()) => Outcome::Refused,
            Err(e) => Outcome::Failed(e.as_db_error().map_or_else(
                || e.to_string(),
                |d| format!("{}: {}", d.code().code(), d.message()),
            )),
        }
    }
}

fn sqlstate(e: &tokio_postgres::Error) -> Option<&str> {
    e.code().map(|c| c.code())
}
