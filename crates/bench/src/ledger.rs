//! Posting throughput: the ledger (API and rules) against plain INSERTs into
//! a table of the same shape without triggers, single-row and batched, on 1
//! and 8 connections.

use std::time::{Duration, Instant};

use anyhow::Result;
use mantis_inventory::{Kind, Poster, Posting};
use rust_decimal::Decimal;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::db::Server;

const PLAIN_TABLE: &str = include_str!("../sql/plain_table.sql");
const PLAIN_INSERT: &str = include_str!("../sql/plain_insert.sql");
const TRIGGER_INSERT: &str = include_str!("../sql/trigger_insert.sql");
const CATALOGUE: &str = include_str!("../sql/catalogue.sql");

/// One configuration, measured three ways.
#[derive(Debug, Clone)]
pub struct Run {
    /// Connections posting at once.
    pub connections: usize,
    /// Movements per transaction.
    pub batch: usize,
    /// Movements posted.
    pub movements: usize,
    /// Through `mantis_inventory::post` (validation, lookups, locks, rules).
    pub ledger: Duration,
    /// The same INSERT statement into core.stock_movement (the rules only).
    pub rules_only: Duration,
    /// Plain INSERTs into a same-shaped table without triggers (the ceiling).
    pub plain: Duration,
}

impl Run {
    /// Movements per second of a duration.
    pub fn rate(&self, d: Duration) -> f64 {
        self.movements as f64 / d.as_secs_f64().max(1e-9)
    }

    /// Extra microseconds per movement over the ceiling.
    pub fn overhead_us(&self, d: Duration) -> f64 {
        (d.as_secs_f64() - self.plain.as_secs_f64()) * 1e6 / self.movements as f64
    }
}

#[derive(Debug, Clone)]
struct Line {
    product: Uuid,
    warehouse: Uuid,
    sku: String,
    code: String,
    quantity: Decimal,
    cost: Decimal,
}

/// Measures every configuration on database `name` (at version 4, seeded).
pub async fn measure(server: &Server, name: &str, movements: usize) -> Result<Vec<Run>> {
    let admin = server.client(name).await?;
    admin.batch_execute(PLAIN_TABLE).await?;
    let lines = lines(&admin, movements).await?;
    let mut runs = Vec::new();
    for (connections, batch) in [(1, 1), (8, 1), (1, 100), (8, 100)] {
        let ledger = timed(server, name, &lines, connections, batch, Way::Ledger).await?;
        let rules_only = timed(server, name, &lines, connections, batch, Way::RulesOnly).await?;
        let plain = timed(server, name, &lines, connections, batch, Way::Plain).await?;
        runs.push(Run {
            connections,
            batch,
            movements: lines.len(),
            ledger,
            rules_only,
            plain,
        });
    }
    Ok(runs)
}

#[derive(Debug, Clone, Copy)]
enum Way {
    Ledger,
    RulesOnly,
    Plain,
}

async fn lines(client: &Client, movements: usize) -> Result<Vec<Line>> {
    let keys: Vec<(Uuid, String, Uuid, String)> = client
        .query(CATALOGUE, &[&2000_i64])
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("product")?,
                r.try_get("sku")?,
                r.try_get("warehouse")?,
                r.try_get("code")?,
            ))
        })
        .collect::<Result<_, tokio_postgres::Error>>()?;
    let mut state: u64 = 0x5eed;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    Ok((0..movements)
        .map(|_| {
            let key = &keys[next(keys.len() as u64) as usize];
            Line {
                product: key.0,
                warehouse: key.2,
                sku: key.1.clone(),
                code: key.3.clone(),
                quantity: Decimal::from(1 + next(20)),
                cost: Decimal::new(100 + next(50_000) as i64, 2),
            }
        })
        .collect())
}

async fn timed(
    server: &Server,
    name: &str,
    lines: &[Line],
    connections: usize,
    batch: usize,
    way: Way,
) -> Result<Duration> {
    let mut clients = Vec::new();
    for _ in 0..connections {
        clients.push(server.client(name).await?);
    }
    let share = lines.len().div_ceil(connections);
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .zip(lines.chunks(share))
        .map(|(client, part)| {
            let part = part.to_vec();
            tokio::spawn(async move {
                let poster = Poster::prepare(&client).await?;
                for chunk in part.chunks(batch) {
                    send(&client, &poster, chunk, way).await?;
                }
                Ok::<(), anyhow::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(started.elapsed())
}

async fn send(client: &Client, poster: &Poster, chunk: &[Line], way: Way) -> Result<()> {
    match way {
        Way::Ledger => {
            let postings: Vec<Posting> = chunk
                .iter()
                .map(|l| Posting::new(Kind::Receipt, &l.sku, &l.code, l.quantity).at(l.cost))
                .collect();
            poster
                .post(client, &postings)
                .await
                .map_err(|e| anyhow::anyhow!("posting: {e}"))?;
        }
        Way::RulesOnly | Way::Plain => {
            // In key order, as a careful SQL client would: rows locked in
            // different orders by concurrent batches deadlock.
            let mut chunk = chunk.to_vec();
            chunk.sort_by_key(|l| (l.product, l.warehouse));
            let sql = if matches!(way, Way::Plain) {
                PLAIN_INSERT
            } else {
                TRIGGER_INSERT
            };
            let products: Vec<Uuid> = chunk.iter().map(|l| l.product).collect();
            let warehouses: Vec<Uuid> = chunk.iter().map(|l| l.warehouse).collect();
            let quantities: Vec<Decimal> = chunk.iter().map(|l| l.quantity).collect();
            let costs: Vec<Decimal> = chunk.iter().map(|l| l.cost).collect();
            client
                .execute(sql, &[&products, &warehouses, &quantities, &costs])
                .await
                .map_err(|e| {
                    let message = e
                        .as_db_error()
                        .map_or(e.to_string(), |d| d.message().to_string());
                    anyhow::anyhow!("{message}")
                })?;
        }
    }
    Ok(())
}
