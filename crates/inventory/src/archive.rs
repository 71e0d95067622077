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

/// How batches are sized: the first covers `first` products; each next one
/// is sized from the last so that it takes about `target` (a stock row's
/// lock, where one is taken, is held that long), within 4x of the last.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// Products in the first batch.
    pub first: i64,
    /// The time a batch should take.
    pub target: Duration,
}

impl Default for Batching {
    fn default() -> Self {
        Batching {
            first: 50,
            target: Duration::from_millis(100),
        }
    }
}

impl Batching {
    /// The next batch's size after one of `products` that took `took`.
    fn next(&self, products: i64, took: Duration) -> i64 {
        let ratio = self.target.as_secs_f64() / took.as_secs_f64().max(1e-3);
        let sized = (products as f64 * ratio).round() as i64;
        sized.clamp((products / 4).max(1), (products * 4).clamp(1, 100_000))
    }
}

/// Which way a run moves movements.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// To the archive, those created before the day.
    Archive(NaiveDate),
    /// Back from it.
    Unarchive,
}

/// Moves the movements created before `before` to the archive, a range of
/// products per transaction. `progress` sees the running totals after each
/// batch.
///
/// # Errors
/// [`ArchiveError`]; the batches committed so far stay done.
pub async fn archive(
    client: &Client,
    before: NaiveDate,
    batching: Batching,
    progress: impl FnMut(&Archived),
) -> Result<Archived, ArchiveError> {
    let state = client.query_one(STATE, &[&before]).await?;
    if state.try_get::<_, bool>("in_future")? {
        return Err(ArchiveError::Future(before));
    }
    exclusive(
        client,
        walk(client, Way::Archive(before), batching, progress),
    )
    .await
}

/// Puts every archived movement back in the hot table and removes the
/// carried balances that stood for them, a range of products per
/// transaction.
///
/// # Errors
/// [`ArchiveError`]; the batches committed so far stay done.
pub async fn unarchive(
    client: &Client,
    batching: Batching,
    progress: impl FnMut(&Archived),
) -> Result<Archived, ArchiveError> {
    exclusive(client, walk(client, Way::Unarchive, batching, progress)).await
}

/// The batches of a run, one key range of products each, until none is left.
async fn walk(
    client: &Client,
    way: Way,
    batching: Batching,
    mut progress: impl FnMut(&Archived),
) -> Result<Archived, ArchiveError> {
    let mut done = Archived {
        before: match way {
            Way::Archive(before) => Some(before),
            Way::Unarchive => None,
        },
        ..Archived::default()
    };
    let started = Instant::now();
    let mut after: Option<Uuid> = None;
    let mut size = batching.first.max(1);
    let next_range = match way {
        Way::Archive(_) => NEXT_PRODUCTS,
        Way::Unarchive => NEXT_ARCHIVED,
    };
    while let Some((first, last, products)) = next(client, next_range, after, size).await? {
        let took = Instant::now();
        let row = match way {
            Way::Archive(before) => {
                retried(
                    client,
                    &mut done.retries,
                    ARCHIVE_BATCH,
                    &[&before, &first, &last],
                )
                .await?
            }
            Way::Unarchive => {
                retried(client, &mut done.retries, UNARCHIVE_BATCH, &[&first, &last]).await?
            }
        };
        let took = took.elapsed();
        done.longest_batch = done.longest_batch.max(took);
        done.batches += 1;
        done.products += products;
        done.movements += count(row.try_get::<_, i64>("movements")?);
        done.carried += count(row.try_get::<_, i32>("carried")?);
        if let Way::Archive(_) = way {
            done.stock_rows += count(row.try_get::<_, i32>("stock_rows")?);
            done.kept += count(row.try_get::<_, i32>("kept")?);
        }
        done.elapsed = started.elapsed();
        progress(&done);
        after = Some(last);
        size = batching.next(size, took);
    }
    done.elapsed = started.elapsed();
    Ok(done)
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
    // A batch that cannot lock a stock row at once (a long posting holds
    // it) gives up after a second, rolls back and is retried.
    client.batch_execute("SET lock_timeout = '1s'").await?;
    let result = work.await;
    let reset = client.batch_execute("RESET lock_timeout").await;
    let unlocked = client.query_one(UNLOCK, &[]).await;
    let out = result?;
    reset?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_sized_toward_the_target_within_four_times_the_last() {
        let b = Batching {
            first: 50,
            target: Duration::from_millis(100),
        };
        assert_eq!(b.next(50, Duration::from_millis(200)), 25);
        assert_eq!(b.next(50, Duration::from_millis(50)), 100);
        assert_eq!(b.next(50, Duration::from_millis(1)), 200, "at most 4x");
        assert_eq!(
            b.next(50, Duration::from_secs(10)),
            12,
            "at least a quarter"
        );
        assert_eq!(
            b.next(1, Duration::from_secs(10)),
            1,
            "never below one product"
        );
    }
}
