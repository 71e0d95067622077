//! What happens around a rehearsed migration: which table locks its session
//! holds (sampled from pg_locks), and how long a concurrent reader and a
//! concurrent writer of the busiest tables wait.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_postgres::Client;

use crate::connect::ConnectOptions;
use crate::error::Error;
use crate::session::Session;

/// Lock modes, weakest first (PostgreSQL's table-level lock modes).
pub const MODES: [&str; 8] = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

/// How strong a lock mode is (index in [`MODES`]).
pub fn strength(mode: &str) -> usize {
    MODES.iter().position(|m| *m == mode).unwrap_or(0)
}

/// The table locks the migration session held at one moment.
#[derive(Debug, Clone)]
pub struct LockSample {
    /// When.
    pub at: Instant,
    /// (table, mode) pairs.
    pub locks: Vec<(String, String)>,
}

/// What another session was waiting for at one moment.
#[derive(Debug, Clone)]
pub struct WaitSample {
    /// When.
    pub at: Instant,
    /// Its backend pid.
    pub pid: i32,
    /// Its application_name.
    pub application: String,
    /// `wait_event_type:wait_event`, e.g. `Lock:transactionid`, `LWLock:WALWrite`, `IO:WALSync`.
    pub event: String,
}

/// What the sampler saw.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// The migration session's table locks.
    pub locks: Vec<LockSample>,
    /// Other sessions' waits.
    pub waits: Vec<WaitSample>,
    /// Where the server's WAL stood: (when, bytes from its start).
    pub wal: Vec<(Instant, i64)>,
    /// How far the standby furthest behind was: (when, bytes of WAL not
    /// yet replayed); none without standbys (or the privilege to see them).
    pub standby: Vec<(Instant, i64)>,
    /// Full-page images the server had counted: (when, count); none before
    /// PostgreSQL 14 (no `pg_stat_wal`).
    pub fpi: Vec<(Instant, i64)>,
}

impl Samples {
    /// The waits sampled in `window` (inclusive). The sampler appends them
    /// in time order, so this is a binary search, not a walk of them all.
    fn waits_in(&self, (from, to): (Instant, Instant)) -> &[WaitSample] {
        let start = self.waits.partition_point(|w| w.at < from);
        let end = self.waits.partition_point(|w| w.at <= to);
        &self.waits[start..end.max(start)]
    }

    /// The wait seen most often in `window` among sessions `matching`, if any.
    pub fn dominant_wait(
        &self,
        window: (Instant, Instant),
        matching: impl Fn(&WaitSample) -> bool,
    ) -> Option<String> {
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for w in self.waits_in(window).iter().filter(|w| matching(w)) {
            *counts.entry(w.event.as_str()).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(event, _)| event.to_string())
    }

    /// Whether a session `matching` was seen waiting on a heavyweight lock
    /// (`Lock:…`: a table, row or transaction lock) in `window`.
    pub fn locked(
        &self,
        window: (Instant, Instant),
        matching: impl Fn(&WaitSample) -> bool,
    ) -> bool {
        self.waits_in(window)
            .iter()
            .any(|w| w.event.starts_with("Lock:") && matching(w))
    }
}

/// What a probe does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    /// `SELECT … LIMIT 1`: waits only for ACCESS EXCLUSIVE.
    Reader,
    /// An UPDATE of an existing row, another random one each time: waits
    /// for SHARE and stronger, and for the row locks the migration holds
    /// (a batched backfill locks a few thousand rows at a time).
    Writer,
    /// A commit that touches no table (a transactional WAL message): it
    /// waits for no lock anyone holds, only for its WAL to be flushed, so
    /// it shows the server-wide stalls every commit shares at that moment
    /// (the disk), which the gate tells from waits on the migration.
    Control,
}

impl ProbeKind {
    /// `reader`, `writer`, `control`.
    pub fn name(self) -> &'static str {
        match self {
            ProbeKind::Reader => "reader",
            ProbeKind::Writer => "writer",
            ProbeKind::Control => "control",
        }
    }
}

/// One probe query.
#[derive(Debug, Clone, Copy)]
pub struct ProbeSample {
    /// When it was sent.
    pub at: Instant,
    /// How long it took.
    pub took: Duration,
}

/// The samples of one probe.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Table probed.
    pub table: String,
    /// Reader or writer.
    pub kind: ProbeKind,
    /// Its queries.
    pub samples: Vec<ProbeSample>,
    /// Its backend pid.
    pub pid: i32,
    /// The probe's last error, if it stopped early.
    pub error: Option<String>,
}

/// Samples the relation locks of backend `pid` on existing tables, what the
/// other sessions wait for, and where the WAL stands, every `every` until
/// `stop` is set; `client` is on a server of `server_version_num`.
pub async fn locks(
    client: Client,
    server_version_num: i32,
    pid: i32,
    tables: Vec<u32>,
    every: Duration,
    stop: Arc<AtomicBool>,
) -> Samples {
    let mut samples = Samples::default();
    let wal = crate::sql::rehearse_wal(server_version_num);
    while !stop.load(Ordering::Relaxed) {
        let at = Instant::now();
        match client
            .query(crate::sql::REHEARSE_LOCKS, &[&pid, &tables])
            .await
        {
            Ok(rows) => {
                let locks: Result<Vec<(String, String)>, tokio_postgres::Error> = rows
                    .iter()
                    .map(|r| Ok((r.try_get("relation")?, r.try_get("mode")?)))
                    .collect();
                match locks {
                    Ok(locks) if !locks.is_empty() => {
                        samples.locks.push(LockSample { at, locks });
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "lock sample unreadable"),
                }
            }
            Err(e) => tracing::debug!(error = %e, "lock sample failed"),
        }
        match client.query(crate::sql::REHEARSE_WAITS, &[&pid]).await {
            Ok(rows) => samples.waits.extend(rows.iter().filter_map(|r| {
                Some(WaitSample {
                    at,
                    pid: r.try_get("pid").ok()?,
                    application: r.try_get("application").ok()?,
                    event: r.try_get("event").ok()?,
                })
            })),
            Err(e) => tracing::debug!(error = %e, "wait sample failed"),
        }
        match client.query_one(wal.as_str(), &[]).await {
            Ok(row) => {
                let now = Instant::now();
                let read = |column| row.try_get::<_, Option<i64>>(column).ok().flatten();
                samples.wal.extend(read("lsn").map(|lsn| (now, lsn)));
                samples
                    .standby
                    .extend(read("standby_behind").map(|b| (now, b)));
                samples.fpi.extend(read("fpi").map(|n| (now, n)));
            }
            Err(e) => tracing::debug!(error = %e, "WAL sample failed"),
        }
        tokio::time::sleep(every).await;
    }
    samples
}

/// A control commit slower than this was stuck in a stall.
const CONTROL_STUCK: Duration = Duration::from_millis(10);

/// Runs a probe against `table` every `every` until `stop` is set, each
/// query on its own connection's autocommit (the control without pausing
/// after a stuck commit).
pub async fn probe(
    options: ConnectOptions,
    table: String,
    kind: ProbeKind,
    every: Duration,
    stop: Arc<AtomicBool>,
) -> Probe {
    let mut probe = Probe {
        table: table.clone(),
        kind,
        samples: Vec::new(),
        pid: 0,
        error: None,
    };
    let result = async {
        let session = Session::connect(&options, crate::event::ignore_events()).await?;
        let client = session.client();
        probe.pid = session
            .backend_pid()
            .await
            .map_err(Error::db("reading a probe's pid"))?;
        let query = match kind {
            ProbeKind::Reader => Query::Simple(format!("SELECT 1 FROM {table} LIMIT 1")),
            ProbeKind::Writer => {
                let (sql, keys) = writer_statement(client, &table).await?;
                Query::Keyed(sql, keys)
            }
            ProbeKind::Control => Query::Simple(crate::sql::REHEARSE_CONTROL.to_string()),
        };
        let mut pick = crate::retry::Picker::new();
        while !stop.load(Ordering::Relaxed) {
            let at = Instant::now();
            match &query {
                Query::Simple(sql) => client.batch_execute(sql).await,
                Query::Keyed(sql, keys) if !keys.is_empty() => {
                    let key = &keys[pick.below(keys.len())];
                    client.execute(sql.as_str(), &[key]).await.map(|_| ())
                }
                Query::Keyed(..) => Ok(()),
            }
            .map_err(Error::db("running a probe"))?;
            let took = at.elapsed();
            probe.samples.push(ProbeSample { at, took });
            // A control commit that was stuck is followed at once, so
            // that one is in flight for as long as the stall lasts.
            if !(kind == ProbeKind::Control && took > CONTROL_STUCK) {
                tokio::time::sleep(every).await;
            }
        }
        Ok::<(), Error>(())
    }
    .await;
    probe.error = result.err().map(|e| crate::error::describe_chain(&e));
    probe
}

/// What a probe sends each time.
enum Query {
    /// The same statement, as a simple query.
    Simple(String),
    /// A statement with one key, picked at random among these each time.
    Keyed(String, Vec<String>),
}

/// `UPDATE table SET key = key WHERE key = $1` (a real row write that
/// changes nothing and fires no column trigger), and up to 1000 existing keys
/// (a block sample of the table) to pick `$1` from.
async fn writer_statement(client: &Client, table: &str) -> Result<(String, Vec<String>), Error> {
    let row = client
        .query_one(crate::sql::REHEARSE_WRITER_COLUMN, &[&table])
        .await
        .map_err(Error::db("choosing a column for the writer probe"))?;
    let (column, key_type): (String, String) = (
        row.try_get("column_name")
            .map_err(Error::db("choosing a column for the writer probe"))?,
        row.try_get("key_type")
            .map_err(Error::db("choosing a column for the writer probe"))?,
    );
    let column = crate::ident::quote_ident(&column);
    let keys = client
        .query(
            &format!(
                "SELECT {column}::text AS key FROM {table} TABLESAMPLE SYSTEM ( \
                     (SELECT least(100, greatest(0.01, 300000 / greatest(reltuples, 1)))::float4 \
                      FROM pg_class WHERE oid = $1::text::regclass)) \
                 WHERE {column} IS NOT NULL LIMIT 1000"
            ),
            &[&table],
        )
        .await
        .map_err(Error::db("choosing rows for the writer probe"))?
        .iter()
        .map(|r| r.try_get("key"))
        .collect::<Result<_, _>>()
        .map_err(Error::db("choosing rows for the writer probe"))?;
    Ok((
        format!(
            "UPDATE {table} SET {column} = {column} WHERE {column} = CAST($1::text AS {key_type})"
        ),
        keys,
    ))
}
