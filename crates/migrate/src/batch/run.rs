//! Runs a batched statement: walk the table's keys in order, one short
//! transaction per batch, progress committed with each batch.

use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::commits::{CommitWatch, Control};
use super::pace::Pace;
use super::standbys::{self, LagLimit};
use super::{pages, BatchOrder, BatchPass, BatchSpec};
use crate::blockers::{self, LockWatch};
use crate::error::Error;
use crate::event::{BatchProgress, Event, EventSink};
use crate::history;
use crate::lock::{self, LockGuard};
use crate::retry::{self, LockRetry};
use crate::session::Session;
use crate::sql;

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
    /// How many times one batch cancelled by `lock_timeout` is tried again
    /// (and one batch of a single row cut at its lock budget).
    pub lock_retries: u32,
    /// The run's `statement_timeout` (zero: none); a batch's lock budget is
    /// never longer.
    pub statement_timeout: Duration,
    /// Hold batches while a standby replays further behind than this.
    pub max_replication_lag: LagLimit,
    /// The run's control commits (opened by its first batched statement).
    pub commits: &'a CommitWatch,
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
    /// The next batch's size, and whether it is still in slow start.
    pub(super) pace: Pace,
    /// The longest a batch may hold its row locks.
    pub(super) hold: Duration,
    /// Batches of one row cut in a row.
    pub(super) cuts_at_one: u32,
    /// The control commits (None: paced by the batches' own commits).
    pub(super) control: Option<&'a Control>,
    /// Whether standbys this role cannot see were told about.
    pub(super) unseen_told: bool,
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
    let hold = match cx.statement_timeout {
        t if t.is_zero() => spec.hold_budget(),
        t => spec.hold_budget().min(t),
    };
    let mut walk = Walk {
        cx,
        spec,
        statement,
        key_type: key_type(client, spec).await?,
        total: row_estimate(client, spec).await?,
        pace: Pace::start(spec),
        hold,
        cuts_at_one: 0,
        control: cx.commits.control(cx.session, cx.events).await,
        unseen_told: false,
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
        before_batch(walk).await?;
        let query = if after.is_some() {
            &from_after
        } else {
            &from_start
        };
        let Some(range) = next(client, query, after.as_deref(), walk.pace.size).await? else {
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
        let Ran::Done(took) = run_batch(walk, &bounds, &mark).await? else {
            continue;
        };
        done += range.rows;
        after = Some(range.last);
        after_batch(walk, BatchPass::Keys, done, range.rows, took).await;
    }
}

/// Before each batch: the migration lock is still held, and no standby lags
/// too far behind.
pub(super) async fn before_batch(walk: &mut Walk<'_>) -> Result<(), Error> {
    lock::ensure_held(walk.cx.session, walk.cx.guard).await?;
    standbys::wait(walk.cx, &mut walk.unseen_told).await
}

/// After each batch: the next batch's size, the
/// progress event, the pause. When the control commits are slow
/// ([`Control::slow_now`]), the next batch is halved and waits for them to
/// recover (without a control commit, batches follow their own time only).
pub(super) async fn after_batch(
    walk: &mut Walk<'_>,
    pass: BatchPass,
    done: i64,
    rows: i64,
    took: Duration,
) {
    walk.pace = walk.pace.after(walk.spec, took);
    walk.cuts_at_one = 0;
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
        batch_time: took,
    }));
    if let Some(control) = walk.control {
        if let Some(worst) = control.slow_now() {
            walk.pace = walk.pace.halved(walk.spec);
            control
                .recover(walk.cx.version, worst, walk.cx.events)
                .await;
        }
    }
    if !walk.spec.pause.is_zero() {
        tokio::time::sleep(walk.spec.pause).await;
    }
}

/// How a batch ended: committed, or cut at its lock budget (rolled back;
/// the walk tries the same place again smaller).
pub(super) enum Ran {
    /// Committed, its locks held this long.
    Done(Duration),
    Cut,
}

/// A failed attempt at a batch, and how long it ran.
struct Failed {
    error: tokio_postgres::Error,
    ran: Duration,
}

/// One batch in its own transaction, tried again from its start when it hits
/// `lock_timeout`; cut when it runs past the walk's lock budget.
pub(super) async fn run_batch(
    walk: &mut Walk<'_>,
    bounds: &Bounds,
    mark: &Mark,
) -> Result<Ran, BatchError> {
    let cx = walk.cx;
    let hold = walk.hold;
    let retry = LockRetry {
        watch: cx.watch,
        lock_timeout: cx.lock_timeout.min(hold),
        attempts: cx.lock_retries + 1,
        version: cx.version,
        events: cx.events,
    };
    let statement = walk.statement;
    let attempt = || async {
        let started = Instant::now();
        try_batch(cx, statement, bounds, mark, hold)
            .await
            .map_err(|error| Failed {
                error,
                ran: started.elapsed(),
            })
    };
    let timed_out = |f: &Failed| {
        (f.error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE))
            .then(|| format!("batch {}: {}", bounds.describe(), f.error))
    };
    match retry.run(attempt, timed_out).await {
        Ok(took) => Ok(Ran::Done(took)),
        Err((failed, seen)) if cut_at_budget(&failed, hold) => {
            cut(walk, failed.error, seen).await?;
            Ok(Ran::Cut)
        }
        Err((failed, seen)) => Err(BatchError::Statement(
            failed.error,
            blockers::describe(&seen),
        )),
    }
}

/// Whether the batch was cancelled by its `statement_timeout` (the lock
/// budget): SQLSTATE 57014 after running that long (a cancel by hand is the
/// same code, sooner; the message is translated, so it is not read).
fn cut_at_budget(failed: &Failed, hold: Duration) -> bool {
    failed.error.code() == Some(&SqlState::QUERY_CANCELED) && failed.ran >= hold.mul_f64(0.9)
}

/// The most a statement's lock budget is raised to when a batch of one key
/// cannot finish within it (never past the run's `statement_timeout`).
const MOST_HOLD: Duration = Duration::from_secs(5);

/// After a cut: the next try is a quarter of the size, after a pause that
/// lets the waiting sessions through. A batch of one key cut at its budget
/// cannot be made smaller: the work of one key takes longer than the budget
/// on this server now (a busy CPU; a statement's planning is part of it), so
/// the statement's budget is doubled, up to [`MOST_HOLD`], and said. One key
/// cut at the most budget more than `lock_retries` times fails the statement.
async fn cut(
    walk: &mut Walk<'_>,
    error: tokio_postgres::Error,
    seen: Vec<crate::types::Blocker>,
) -> Result<(), BatchError> {
    let cx = walk.cx;
    let rows = walk.pace.size;
    walk.pace = walk.pace.cut();
    if rows > 1 {
        (cx.events)(&Event::BatchCut {
            version: cx.version,
            line: cx.line,
            table: walk.spec.table.clone(),
            rows,
            next_rows: walk.pace.size,
            hold: walk.hold,
        });
        tokio::time::sleep(walk.spec.time).await;
        return Ok(());
    }
    let raised = raise(walk.hold, cx.statement_timeout);
    if raised > walk.hold {
        walk.hold = raised;
        (cx.events)(&Event::BatchBudgetRaised {
            version: cx.version,
            line: cx.line,
            table: walk.spec.table.clone(),
            hold: raised,
        });
    } else {
        walk.cuts_at_one += 1;
        if walk.cuts_at_one > cx.lock_retries {
            return Err(BatchError::Statement(error, blockers::describe(&seen)));
        }
    }
    tokio::time::sleep(retry::backoff(walk.cuts_at_one.max(1))).await;
    Ok(())
}

/// The lock budget after one key ran past `hold`: doubled, at most
/// [`MOST_HOLD`] and the run's `statement_timeout` (zero: none).
fn raise(hold: Duration, statement_timeout: Duration) -> Duration {
    let most = if statement_timeout.is_zero() {
        MOST_HOLD
    } else {
        statement_timeout.min(MOST_HOLD)
    };
    (hold * 2).min(most).max(hold)
}

/// One batch, in two round trips: BEGIN with its settings (lock_timeout,
/// key and page range, statement_timeout = the lock budget, asynchronous
/// commit), then the statement, its progress mark and COMMIT in one message,
/// so that no round trip to this process (which a busy CPU may not schedule
/// for a while) happens while the batch holds its row locks. Returns how long
/// the second took: how long the locks were held.
async fn try_batch(
    cx: &BatchContext<'_>,
    statement: &str,
    bounds: &Bounds,
    mark: &Mark,
    hold: Duration,
) -> Result<Duration, tokio_postgres::Error> {
    let client = cx.session.client();
    let version = history::db_version(cx.version);
    let opening = format!(
        "BEGIN; {}",
        sql::batch_settings(
            cx.lock_timeout,
            hold,
            (&bounds.first, &bounds.last),
            bounds.pages.as_ref()
        )
    );
    let body = format!("{statement}\n;\n{};\nCOMMIT", mark.sql(version));
    let started = Instant::now();
    let result = match client.batch_execute(&opening).await {
        Ok(()) => client.batch_execute(&body).await,
        Err(e) => Err(e),
    };
    let held = started.elapsed();
    if let Err(e) = result {
        if let Err(rollback) = client.batch_execute("ROLLBACK").await {
            tracing::debug!(error = %rollback, "rollback failed (the server rolls back a lost session anyway)");
        }
        return Err(e);
    }
    Ok(held)
}

impl Mark {
    /// The UPDATE of the progress marker recording this batch.
    fn sql(&self, version: i64) -> String {
        match self {
            Mark::Key { last, rows } => sql::advance_batch(version, last, *rows),
            Mark::Pages { next, end, rows } => sql::advance_pages(version, *next, *end, *rows),
        }
    }
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
    fn a_budget_one_key_cannot_meet_is_doubled_up_to_its_most() {
        let ms = Duration::from_millis;
        assert_eq!(raise(ms(80), Duration::ZERO), ms(160));
        assert_eq!(raise(ms(4000), Duration::ZERO), MOST_HOLD);
        assert_eq!(raise(MOST_HOLD, Duration::ZERO), MOST_HOLD, "no further");
        assert_eq!(
            raise(ms(80), ms(100)),
            ms(100),
            "never past statement_timeout"
        );
        assert_eq!(raise(ms(100), ms(100)), ms(100));
    }
}
