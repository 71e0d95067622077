//! Archiving the ledger with carried balances (migration 005, ADR-033).
//!
//! `archive` moves the movements created before a date out of
//! `core.stock_movement` into `core.stock_movement_archive`, one key range of
//! products per transaction; each stock row keeps one carried-balance
//! movement for what left, so quantity = Σ movements and value = Σ value
//! changes still hold on the hot table. `unarchive` puts everything back.
//! Both are resumable (a range already done is skipped), hold a stock row's
//! lock only for the batch that moves its movements, and run one at a time
//! per database.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::Serialize;
use thiserror::Error;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;
use uuid::Uuid;

const NEXT_PRODUCTS: &str = include_str!("../sql/archive/next_products.sql");
const NEXT_ARCHIVED: &str = include_str!("../sql/archive/next_archived.sql");
const ARCHIVE_BATCH: &str = include_str!("../sql/archive/archive_batch.sql");
const UNARCHIVE_BATCH: &str = include_str!("../sql/archive/unarchive_batch.sql");
const TRY_LOCK: &str = include_str!("../sql/archive/try_lock.sql");
const UNLOCK: &str = include_str!("../sql/archive/unlock.sql");
const STATE: &str = include_str!("../sql/archive/state.sql");

/// Attempts of a batch that met a lock timeout or a deadlock.
const ATTEMPTS: u32 = 5;

/// Why archiving stopped. Batches committed before the error stay done; a
/// rerun carries on.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The cut is in the future: movements still being posted would move.
    #[error("--before {0} is after today on the database server: only days that are over can be archived")]
    Future(NaiveDate),
    /// Another archive or unarchive holds this database.
    #[error("another `mantis ledger archive` or `unarchive` is running on this database; wait for it to finish")]
    Busy,
    /// The database refused.
    #[error("{0}")]
    Database(#[from] tokio_postgres::Error),
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Archived {
    /// The cut: movements created before this day were archived.
    pub before: Option<NaiveDate>,
    /// Transactions committed.
    pub batches: u64,
    /// Products covered.
    pub products: u64,
    /// Stock rows whose old movements moved.
    pub stock_rows: u64,
    /// Movements moved (to the archive, or back).
    pub movements: u64,
    /// Carried-balance movements written (archive) or removed (unarchive).
    pub carried: u64,
    /// Stock rows left in place: their old movements net to zero quantity
    /// but not to zero value, which no movement can carry.
    pub kept: u64,
    /// Batches retried after a lock timeout or deadlock.
    pub retries: u64,
    /// The longest batch (its locks are held that long).
    #[serde(serialize_with = "crate::duration::millis")]
    pub longest_batch: Duration,
    /// Wall time.
    #[serde(serialize_with = "crate::duration::millis")]
    pub elapsed: Duration,
}

/// What the archive holds.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveState {
    /// Archived movements.
    pub archived: i64,
    /// Carried balances standing for them.
    pub carries: i64,
}

/// Moves the movements created before `before` to the archive, `batch`
/// products per transaction. `progress` sees the running totals after each
/// batch.
///
/// # Errors
/// [`ArchiveError`]; the batches committed so far stay done.
pub async fn archive(
    client: &Client,
    before: NaiveDate,
    batch: i64,
    mut progress: impl FnMut(&Archived),
) -> Result<Archived, ArchiveError> {
    let state = client.query_one(STATE, &[&before]).await?;
    if state.try_get::<_, bool>("in_future")? {
        return Err(ArchiveError::Future(before));
    }
    exclusive(client, async {
        let mut done = Archived {
            before: Some(before),
            ..Archived::default()
        };
        let started = Instant::now();
        let mut after: Option<Uuid> = None;
        while let Some((first, last, products)) = next(client, NEXT_PRODUCTS, after, batch).await? {
            let took = Instant::now();
            let row = retried(
                client,
                &mut done.retries,
                ARCHIVE_BATCH,
                &[&before, &first, &last],
            )
            .await?;
            done.longest_batch = done.longest_batch.max(took.elapsed());
            done.batches += 1;
            done.products += products;
            done.stock_rows += count(row.try_get::<_, i32>("stock_rows")?);
            done.movements += count(row.try_get::<_, i64>("movements")?);
            done.carried += count(row.try_get::<_, i32>("carried")?);
            done.kept += count(row.try_get::<_, i32>("kept")?);
            done.elapsed = started.elapsed();
            progress(&done);
            after = Some(last);
        }
        done.elapsed = started.elapsed();
        Ok(done)
    })
    .await
}

/// Puts every archived movement back in the hot table and removes the
/// carried balances that stood for them, `batch` products per transaction.
///
/// # Errors
/// [`ArchiveError`]; the batches committed so far stay done.
pub async fn unarchive(
    client: &Client,
    batch: i64,
    mut progress: impl FnMut(&Archived),
) -> Result<Archived, ArchiveError> {
    exclusive(client, async {
        let mut done = Archived::default();
        let started = Instant::now();
        let mut after: Option<Uuid> = None;
        while let Some((first, last, products)) = next(client, NEXT_ARCHIVED, after, batch).await? {
            let took = Instant::now();
            let row = retried(client, &mut done.retries, UNARCHIVE_BATCH, &[&first, &last]).await?;
            done.longest_batch = done.longest_batch.max(took.elapsed());
            done.batches += 1;
            done.products += products;
            done.movements += count(row.try_get::<_, i64>("movements")?);
            done.carried += count(row.try_get::<_, i32>("carried")?);
            done.elapsed = started.elapsed();
            progress(&done);
            after = Some(last);
        }
        done.elapsed = started.elapsed();
        Ok(done)
    })
    .await
}

/// How many movements are archived, and behind how many carried balances.
///
/// # Errors
/// The driver error (e.g. the database is not at migration 005).
pub async fn state(client: &Client) -> Result<ArchiveState, tokio_postgres::Error> {
    let today = chrono::Utc::now().date_naive();
    let row = client.query_one(STATE, &[&today]).await?;
    Ok(ArchiveState {
        archived: row.try_get("archived")?,
        carries: row.try_get("carries")?,
    })
}

/// Runs `work` holding the database's archive lock (session-level).
async fn exclusive<T>(
    client: &Client,
    work: impl std::future::Future<Output = Result<T, ArchiveError>>,
) -> Result<T, ArchiveError> {
    if !client
        .query_one(TRY_LOCK, &[])
        .await?
        .try_get::<_, bool>(0)?
    {
        return Err(ArchiveError::Busy);
    }
    let result = work.await;
    let unlocked = client.query_one(UNLOCK, &[]).await;
    let out = result?;
    unlocked?;
    Ok(out)
}

/// The next key range: (first, last, products), None when done.
async fn next(
    client: &Client,
    query: &str,
    after: Option<Uuid>,
    batch: i64,
) -> Result<Option<(Uuid, Uuid, u64)>, tokio_postgres::Error> {
    let row = client.query_one(query, &[&after, &batch]).await?;
    let first: Option<Uuid> = row.try_get("first")?;
    let last: Option<Uuid> = row.try_get("last")?;
    Ok(match (first, last) {
        (Some(first), Some(last)) => Some((first, last, count(row.try_get::<_, i64>("products")?))),
        _ => None,
    })
}

/// A batch, retried after a lock timeout or a deadlock (it rolled back).
async fn retried(
    client: &Client,
    retries: &mut u64,
    batch: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<tokio_postgres::Row, ArchiveError> {
    let mut attempt = 1;
    loop {
        match client.query_one(batch, params).await {
            Err(e) if attempt < ATTEMPTS && transient(&e) => {
                *retries += 1;
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                attempt += 1;
            }
            other => return Ok(other?),
        }
    }
}

fn transient(e: &tokio_postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == SqlState::LOCK_NOT_AVAILABLE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::T_R_SERIALIZATION_FAILURE
    })
}

fn count<T: TryInto<u64>>(n: T) -> u64 {
    n.try_into().unwrap_or(0)
}
