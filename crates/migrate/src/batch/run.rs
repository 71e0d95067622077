//! Runs a batched statement: walk the table's keys in order, one short
//! transaction per batch, progress committed with each batch.

use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::{pages, BatchOrder, BatchPass, BatchSpec};
use crate::blockers::{self, LockWatch};
use crate::error::Error;
use crate::event::{BatchProgress, Event, EventSink};
use crate::history;
use crate::lock::{self, LockGuard};
use crate::retry::LockRetry;
use crate::session::Session;
use crate::sql;
use crate::transaction::transaction;

/// What a batched statement runs with.
pub(crate) struct BatchContext<'a> {
    pub session: &'a Session,
    pub guard: &'a LockGuard,
    pub watch: &'a LockWatch,
    pub events: &'a EventSink,
    pub version: u64,
    /// Statement index in its file (0-based) and its first line.
    pub index: usize,
    pub line: usize,
    /// `lock_timeout` of each batch's transaction.
    pub lock_timeout: Duration,
    /// How many times one batch cancelled by `lock_timeout` is tried again.
    pub lock_retries: u32,
    /// Hold batches while a standby replays further behind than this.
    pub max_replication_lag: Option<Duration>,
}

/// Why a batched statement stopped.
pub(crate) enum BatchError {
    /// The statement failed in a batch (the batch was rolled back; earlier
    /// batches stay committed and recorded).
    Statement(tokio_postgres::Error, Option<String>),
    /// The engine's own work failed (reading keys, the progress marker, the lock).
    Engine(Error),
}

impl From<Error> for BatchError {
    fn from(e: Error) -> Self {
        BatchError::Engine(e)
    }
}

/// Where an interrupted run of the statement stopped.
pub(super) struct Resume {
    /// The last key of the key walk's last committed batch.
    after: Option<String>,
    /// Rows done in the current walk.
    rows: i64,
    /// The page walk's next page and the page it ends before (`order=physical`).
    pages: Option<(i64, i64)>,
}

/// The statement being walked, and the pace carried from batch to batch.
pub(super) struct Walk<'a> {
    pub(super) cx: &'a BatchContext<'a>,
    pub(super) spec: &'a BatchSpec,
    pub(super) statement: &'a str,
    pub(super) key_type: String,
    /// The planner's row count of the table.
    pub(super) total: u64,
    /// The next batch's size, in rows.
    pub(super) size: u64,
}

impl Resume {
    /// Where the interrupted run stopped, if it committed any batch.
    fn describe(&self) -> Option<String> {
        let rows = self.rows;
        match (&self.after, self.pages) {
            (Some(key), _) => Some(format!("the key after {key} ({rows} rows done)")),
            (None, Some((next, end))) if next < end => {
                Some(format!("page {next} of {end} ({rows} rows done)"))
            }
            _ => None,
        }
    }
}

/// A batch's bounds: its key range (inclusive, as text) and, for
/// `order=physical`, its page range as ctids (inclusive).
pub(super) struct Bounds {
    pub(super) first: String,
    pub(super) last: String,
    pub(super) pages: Option<(String, String)>,
}

/// What a committed batch records, in its own transaction.
pub(super) enum Mark {
    /// The key walk is done up to `last`.
    Key { last: String, rows: i64 },
    /// The page walk goes on at `next` and ends before `end`.
    Pages { next: i64, end: i64, rows: i64 },
}

/// One batch of the key walk: its key range and row count.
struct Range {
    first: String,
    last: String,
    rows: i64,
}

/// Every ctid of a table: the page bounds of the key walk of an
/// `order=physical` statement.
const ALL_PAGES: (&str, &str) = ("(0,0)", "(4294967295,65535)");

/// Runs `statement` batch by batch until no key is left after the last one
/// done, resuming after the batch recorded by an interrupted run; with
/// `order=physical`, after a walk of the table's pages (PostgreSQL 14 and later).
pub(crate) async fn run(
    cx: &BatchContext<'_>,
    spec: &BatchSpec,
    statement: &str,
) -> Result<(), BatchError> {
    let client = cx.session.client();
    let mut walk = Walk {
        cx,
        spec,
        statement,
        key_type: key_type(client, spec).await?,
        total: row_estimate(client, spec).await?,
        size: spec.rows,
    };
    let resume = resume_point(client, cx.version).await?;
    if let Some(at) = resume.describe() {
        (cx.events)(&Event::BatchResumed {
            version: cx.version,
            line: cx.line,
            table: spec.table.clone(),
            at,
        });
    }
    let physical = spec.order == BatchOrder::Physical;
    let keys_begun = resume.after.is_some() || resume.pages.is_some_and(|(next, end)| next >= end);
    if physical && !keys_begun && pages::supported(cx.session) {
        pages::walk(&mut walk, resume.pages, resume.rows).await?;
        return keys(&mut walk, None, 0, physical).await;
    }
    keys(&mut walk, resume.after, resume.rows, physical).await
}

/// The key walk, from the key after `after` (the start when none).
async fn keys(
    walk: &mut Walk<'_>,
    mut after: Option<String>,
    mut done: i64,
    physical: bool,
) -> Result<(), BatchError> {
    let client = walk.cx.session.client();
    let (from_start, from_after) = next_range_sql(walk.spec, &walk.key_type);
    loop {
        before_batch(walk.cx).await?;
        let query = if after.is_some() {
            &from_after
        } else {
            &from_start
        };
        let Some(range) = next(client, query, after.as_deref(), walk.size).await? else {
            return Ok(());
        };
        let bounds = Bounds {
            first: range.first,
            last: range.last.clone(),
            pages: physical.then(|| (ALL_PAGES.0.to_string(), ALL_PAGES.1.to_string())),
        };
        let mark = Mark::Key {
            last: range.last.clone(),
            rows: range.rows,
        };
        let took = run_batch(walk.cx, walk.statement, &bounds, &mark).await?;
        done += range.rows;
        after = Some(range.last);
        after_batch(walk, BatchPass::Keys, done, range.rows, took).await;
    }
}

/// Before each batch: the migration lock is still held, and no standby lags
/// too far behind.
pub(super) async fn before_batch(cx: &BatchContext<'_>) -> Result<(), Error> {
    lock::ensure_held(cx.session, cx.guard).await?;
    wait_for_standbys(cx).await
}

/// A batch's COMMIT slower than this means the disk is behind: the commit
/// is the WAL flush that every other session's commit queues for.
const SLOW_COMMIT: Duration = Duration::from_millis(20);

/// How long a batch took: its statements, and its COMMIT.
#[derive(Debug, Clone, Copy)]
pub(super) struct Took {
    pub(super) work: Duration,
    pub(super) commit: Duration,
}

/// After each batch: the next batch's size, the progress event, the pause.
pub(super) async fn after_batch(
    walk: &mut Walk<'_>,
    pass: BatchPass,
    done: i64,
    rows: i64,
    took: Took,
) {
    let (size, pause) = pace(walk.size, walk.spec, took);
    walk.size = size;
    let done = u64::try_from(done).unwrap_or(0);
    (walk.cx.events)(&Event::BatchProgress(BatchProgress {
        version: walk.cx.version,
        index: walk.cx.index,
        line: walk.cx.line,
        table: walk.spec.table.clone(),
        pass,
        rows_done: done,
        rows_total: walk.total.max(done),
        batch_rows: u64::try_from(rows).unwrap_or(0),
        batch_time: took.work + took.commit,
    }));
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
}

/// The next batch's size and the pause before it. The size follows the
/// target time ([`next_size`], the commit included: the batch's row locks
/// are held until it ends); the pause is the statement's own. When the
/// batch's COMMIT was slow ([`SLOW_COMMIT`]), the disk is behind, and every
/// other session's commit with it: the next batch waits four times that
/// commit first (at most 2 s), so the flush queue drains before more is
/// written.
fn pace(size: u64, spec: &BatchSpec, took: Took) -> (u64, Duration) {
    let size = next_size(size, spec, took.work + took.commit);
    if took.commit <= SLOW_COMMIT {
        return (size, spec.pause);
    }
    let backoff = (took.commit * 4).min(Duration::from_secs(2));
    (size, spec.pause.max(backoff))
}

/// Holds the next batch while a standby replays further behind than
/// `max_replication_lag`, saying so every 5 s (a backfill must not leave
/// readers of replicas with stale data for long).
async fn wait_for_standbys(cx: &BatchContext<'_>) -> Result<(), Error> {
    let Some(max) = cx.max_replication_lag else {
        return Ok(());
    };
    let started = Instant::now();
    let mut told = Duration::ZERO;
    loop {
        let lag_ms: i64 = cx
            .session
            .client()
            .query_one(sql::REPLICATION_LAG, &[])
            .await
            .and_then(|row| row.try_get("lag_ms"))
            .map_err(Error::db("reading the standbys' replay lag"))?;
        let lag = Duration::from_millis(u64::try_from(lag_ms).unwrap_or(0));
        if lag <= max {
            return Ok(());
        }
        if started.elapsed() >= told {
            (cx.events)(&Event::ReplicationLag {
                version: cx.version,
                lag,
                limit: max,
            });
            told += Duration::from_secs(5);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One batch in its own transaction, tried again from its start when it hits
/// `lock_timeout`. Returns how long the successful attempt took.
pub(super) async fn run_batch(
    cx: &BatchContext<'_>,
    statement: &str,
    bounds: &Bounds,
    mark: &Mark,
) -> Result<Took, BatchError> {
    let client = cx.session.client();
    let retry = LockRetry {
        watch: cx.watch,
        lock_timeout: cx.lock_timeout,
        attempts: cx.lock_retries + 1,
        version: cx.version,
        events: cx.events,
    };
    let attempt = || async {
        let started = Instant::now();
        let worked = std::cell::Cell::new(None);
        let body = async {
            try_batch(cx, statement, bounds, mark).await?;
            worked.set(Some(started.elapsed()));
            Ok(())
        };
        transaction(client, body, |e| e).await?;
        let total = started.elapsed();
        let work = worked.get().unwrap_or(total);
        Ok(Took {
            work,
            commit: total.saturating_sub(work),
        })
    };
    let timed_out = |e: &tokio_postgres::Error| {
        (e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE))
            .then(|| format!("batch {}: {e}", bounds.describe()))
    };
    retry
        .run(attempt, timed_out)
        .await
        .map_err(|(e, seen)| BatchError::Statement(e, blockers::describe(&seen)))
}

/// One batch, inside the caller's transaction: its settings (lock_timeout,
/// key range), the statement, and the progress mark that commits with it.
async fn try_batch(
    cx: &BatchContext<'_>,
    statement: &str,
    bounds: &Bounds,
    mark: &Mark,
) -> Result<(), tokio_postgres::Error> {
    let client = cx.session.client();
    let version = history::db_version(cx.version);
    client
        .execute(
            sql::BATCH_SETTINGS,
            &[
                &format!("{}ms", cx.lock_timeout.as_millis()),
                &bounds.first,
                &bounds.last,
            ],
        )
        .await?;
    if let Some((first, last)) = &bounds.pages {
        client
            .execute(sql::BATCH_PAGE_SETTINGS, &[first, last])
            .await?;
    }
    client.batch_execute(statement).await?;
    match mark {
        Mark::Key { last, rows } => {
            client
                .execute(sql::ADVANCE_BATCH, &[&version, last, rows])
                .await?
        }
        Mark::Pages { next, end, rows } => {
            client
                .execute(sql::ADVANCE_PAGES, &[&version, next, end, rows])
                .await?
        }
    };
    Ok(())
}

impl Bounds {
    /// The batch, as named in a retry message.
    fn describe(&self) -> String {
        match &self.pages {
            Some((first, last)) if (first.as_str(), last.as_str()) != ALL_PAGES => {
                format!("pages {first}..{last}")
            }
            _ => format!("{}..{}", self.first, self.last),
        }
    }
}

/// The next batch's size, toward the target time: in proportion to how long
/// this one took, at most halved or doubled at once, never above `rows`.
fn next_size(size: u64, spec: &BatchSpec, took: Duration) -> u64 {
    let ratio = spec.time.as_secs_f64() / took.as_secs_f64().max(0.000_1);
    let next = (size as f64 * ratio.clamp(0.5, 2.0)).round() as u64;
    next.clamp(1, spec.rows)
}

async fn key_type(client: &Client, spec: &BatchSpec) -> Result<String, Error> {
    let key_type = client
        .query_opt(sql::BATCH_KEY_TYPE, &[&spec.quoted_table(), &spec.key])
        .await
        .and_then(|row| row.map(|r| r.try_get("key_type")).transpose())
        .map_err(Error::db("reading the batch key's type"))?;
    key_type.ok_or_else(|| Error::BatchKey {
        table: spec.table.clone(),
        key: spec.key.clone(),
    })
}

async fn resume_point(client: &Client, version: u64) -> Result<Resume, Error> {
    let row = client
        .query_opt(sql::SELECT_BATCH_PROGRESS, &[&history::db_version(version)])
        .await
        .map_err(Error::db("reading the batch progress"))?;
    let Some(r) = row else {
        return Ok(Resume {
            after: None,
            rows: 0,
            pages: None,
        });
    };
    let read = || -> Result<Resume, tokio_postgres::Error> {
        let page: Option<i64> = r.try_get("batch_page")?;
        let page_end: Option<i64> = r.try_get("batch_page_end")?;
        Ok(Resume {
            after: r.try_get("batch_after")?,
            rows: r.try_get("batch_rows")?,
            pages: page.zip(page_end),
        })
    };
    read().map_err(Error::db("reading the batch progress"))
}

/// The planner's row count (cheap), or an exact count when it has none
/// (never analysed: -1 since PostgreSQL 14, 0 before, which an empty table
/// also shows and counts at no cost); only the progress bar uses it.
async fn row_estimate(client: &Client, spec: &BatchSpec) -> Result<u64, Error> {
    let table = spec.quoted_table();
    let estimate = client
        .query_one(
            &format!(
                "SELECT CASE WHEN c.reltuples > 0 THEN c.reltuples::bigint \
                             ELSE (SELECT count(*) FROM {table}) END AS estimate \
                 FROM pg_class c WHERE c.oid = to_regclass($1)"
            ),
            &[&table],
        )
        .await
        .and_then(|row| row.try_get::<_, i64>("estimate"))
        .map_err(Error::db("estimating the rows to batch"))?;
    Ok(u64::try_from(estimate).unwrap_or(0))
}

/// The first `$1` keys (first, last and how many), and the next `$1` after
/// key `$2`: two statements, so that each is a plain index range scan.
fn next_range_sql(spec: &BatchSpec, key_type: &str) -> (String, String) {
    let (table, key) = (spec.quoted_table(), spec.quoted_key());
    let query = |filter: &str| {
        format!(
            "WITH batch AS (SELECT {key} AS k FROM {table} {filter} ORDER BY {key} LIMIT $1) \
             SELECT (SELECT k::text FROM batch ORDER BY batch.k LIMIT 1) AS first, \
                    (SELECT k::text FROM batch ORDER BY batch.k DESC LIMIT 1) AS last, \
                    (SELECT count(*) FROM batch) AS rows"
        )
    };
    (
        query("WHERE $2::text IS NULL"),
        query(&format!("WHERE {key} > CAST($2::text AS {key_type})")),
    )
}

async fn next(
    client: &Client,
    query: &str,
    after: Option<&str>,
    size: u64,
) -> Result<Option<Range>, Error> {
    let limit = i64::try_from(size).unwrap_or(i64::MAX);
    let row = client
        .query_one(query, &[&limit, &after])
        .await
        .map_err(Error::db("finding the next batch"))?;
    let read = || -> Result<Option<Range>, tokio_postgres::Error> {
        let rows: i64 = row.try_get("rows")?;
        if rows == 0 {
            return Ok(None);
        }
        Ok(Some(Range {
            first: row.try_get("first")?,
            last: row.try_get("last")?,
            rows,
        }))
    };
    read().map_err(Error::db("finding the next batch"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_size_follows_the_target_time() {
        let spec = BatchSpec::parse("table=t key=k rows=1000 time=40ms").unwrap();
        let ms = Duration::from_millis;
        assert_eq!(next_size(1000, &spec, ms(90)), 500, "at most halved");
        assert_eq!(next_size(1000, &spec, ms(50)), 800, "in proportion");
        assert_eq!(next_size(1, &spec, ms(90)), 1, "never zero");
        assert_eq!(next_size(400, &spec, ms(32)), 500);
        assert_eq!(next_size(300, &spec, ms(10)), 600, "at most doubled");
        assert_eq!(next_size(800, &spec, ms(1)), 1000, "never above rows");
    }

    #[test]
    fn a_slow_commit_makes_the_next_batch_wait_for_the_disk() {
        let spec = BatchSpec::parse("table=t key=k rows=1000 time=40ms pause=5ms").unwrap();
        let ms = Duration::from_millis;
        let took = |work, commit| Took {
            work: ms(work),
            commit: ms(commit),
        };
        assert_eq!(
            pace(1000, &spec, took(38, 2)),
            (1000, ms(5)),
            "a quick commit"
        );
        assert_eq!(pace(1000, &spec, took(20, 60)), (500, ms(240)));
        assert_eq!(
            pace(1000, &spec, took(20, 900)),
            (500, ms(2000)),
            "at most 2 s"
        );
        assert_eq!(pace(1000, &spec, took(20, 19)), (1000, ms(5)), "not slow");
    }
}
