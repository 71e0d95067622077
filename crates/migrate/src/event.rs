//! Progress events. The engine never prints; it reports through an [`EventSink`]
//! and the binary decides how to show them.

use std::sync::Arc;
use std::time::Duration;

use crate::types::BatchPass;
use crate::types::Blocker;
use crate::types::Direction;
use crate::types::LockHolder;

/// Something worth telling the user while an operation runs. As JSON
/// (`--log-format json`), one object per event named by `event` (snake
/// case), durations in milliseconds (`…_ms`) or microseconds (`…_us`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// Connected to a server.
    Connected {
        /// Masked connection string.
        target: String,
        /// `server_version` as the server reports it.
        server_version: String,
    },
    /// Another runner holds the migration lock; we are waiting.
    LockWaiting {
        /// Who holds it, if known.
        holder: Option<LockHolder>,
        /// How long we have waited so far.
        #[serde(rename = "waited_ms", serialize_with = "crate::serde_time::millis")]
        waited: Duration,
        /// How long we will wait in all.
        #[serde(rename = "limit_ms", serialize_with = "crate::serde_time::millis")]
        limit: Duration,
    },
    /// The migration lock is ours.
    LockAcquired {
        /// How long it took.
        #[serde(rename = "waited_ms", serialize_with = "crate::serde_time::millis")]
        waited: Duration,
    },
    /// A migration starts.
    MigrationStarted {
        /// Version.
        version: u64,
        /// Name.
        name: String,
        /// Up or down.
        direction: Direction,
        /// The file being run.
        file: String,
        /// Statement index (0-based) where a resumed run starts.
        resume_at: usize,
    },
    /// An INVALID index left by an interrupted `CREATE INDEX CONCURRENTLY` was
    /// dropped so that the statement can build it again.
    InvalidIndexDropped {
        /// Migration version.
        version: u64,
        /// The index, schema-qualified.
        index: String,
    },
    /// A statement hit `lock_timeout` (SQLSTATE 55P03); it will be tried again.
    LockTimeoutRetry {
        /// Version.
        version: u64,
        /// Attempt that failed (1-based).
        attempt: u32,
        /// Attempts allowed in all.
        attempts: u32,
        /// Pause before the next attempt.
        #[serde(rename = "backoff_ms", serialize_with = "crate::serde_time::millis")]
        backoff: Duration,
        /// The server's message.
        message: String,
        /// The sessions last seen holding the lock (empty when none was seen).
        blockers: Vec<Blocker>,
    },
    /// A batch of a batched statement committed.
    BatchProgress(BatchProgress),
    /// A batched statement goes on where an interrupted run left it.
    BatchResumed {
        /// Version.
        version: u64,
        /// 1-based line where the statement starts.
        line: usize,
        /// The table walked.
        table: String,
        /// Where: `page N of M` or `after key K`, with the rows done.
        at: String,
    },
    /// Batches are held: a standby replays further behind than allowed
    /// (told when the wait starts and every 5 s while it lasts).
    ReplicationLag {
        /// Version.
        version: u64,
        /// The standby furthest behind, as last seen.
        standby: crate::batch::Standby,
        /// `--max-replication-lag`.
        #[serde(serialize_with = "crate::serde_time::display")]
        limit: crate::batch::LagLimit,
        /// How long batches have waited so far.
        #[serde(rename = "waited_ms", serialize_with = "crate::serde_time::millis")]
        waited: Duration,
    },
    /// Every standby is back within the limit: batches go on.
    ReplicationCaughtUp {
        /// Version.
        version: u64,
        /// How long batches waited.
        #[serde(rename = "waited_ms", serialize_with = "crate::serde_time::millis")]
        waited: Duration,
    },
    /// This role cannot see how far these standbys are behind (it needs
    /// pg_monitor): batches do not wait for them. Told once per statement.
    StandbysUnseen {
        /// Version.
        version: u64,
        /// The standbys.
        standbys: Vec<String>,
    },
    /// A batch ran past its lock budget: it was cancelled, rolled back, and
    /// is tried again smaller.
    BatchCut {
        /// Version.
        version: u64,
        /// 1-based line where the statement starts.
        line: usize,
        /// The table walked.
        table: String,
        /// Rows in the cut batch.
        rows: u64,
        /// Rows in the next try.
        next_rows: u64,
        /// The budget it ran past.
        #[serde(rename = "hold_ms", serialize_with = "crate::serde_time::millis")]
        hold: Duration,
    },
    /// A batch of one key ran past its lock budget: the work of one key
    /// takes longer than that on this server now, so the statement's budget
    /// is raised (doubled, at most 5 s).
    BatchBudgetRaised {
        /// Version.
        version: u64,
        /// 1-based line where the statement starts.
        line: usize,
        /// The table walked.
        table: String,
        /// The new budget.
        #[serde(rename = "hold_ms", serialize_with = "crate::serde_time::millis")]
        hold: Duration,
    },
    /// The control commit's baseline, taken before the run's first batch.
    CommitBaseline {
        /// Its p99 and longest.
        baseline: crate::batch::Baseline,
    },
    /// No control commit: batches are paced by their own commits only.
    CommitPacingOff {
        /// Why.
        reason: String,
    },
    /// Commits are slow (the control commit took `worst`, over twice its
    /// baseline): batches are halved and wait for them to recover.
    CommitsSlow {
        /// Version.
        version: u64,
        /// The slowest control commit during the last batch.
        #[serde(rename = "worst_ms", serialize_with = "crate::serde_time::millis")]
        worst: Duration,
        /// The baseline.
        baseline: crate::batch::Baseline,
        /// How long batches have waited so far.
        #[serde(rename = "waited_ms", serialize_with = "crate::serde_time::millis")]
        waited: Duration,
    },
    /// The run was told to let user triggers, rules and policies act on the
    /// tables a migration writes (`--user-triggers fire`): which ones.
    UserObjectsFire {
        /// Version.
        version: u64,
        /// Each one, with its table and definition.
        objects: Vec<String>,
    },
    /// A NOTICE, WARNING, INFO … sent by the server.
    Notice {
        /// Severity (NOTICE, WARNING, …).
        severity: String,
        /// Message text.
        message: String,
        /// DETAIL, if any.
        detail: Option<String>,
        /// HINT, if any.
        hint: Option<String>,
    },
    /// A statement of a migration file starts.
    StatementStarted {
        /// Version.
        version: u64,
        /// Index of the statement in its file (0-based).
        index: usize,
        /// 1-based line where it starts.
        line: usize,
    },
    /// A statement finished (successfully).
    StatementFinished {
        /// Version.
        version: u64,
        /// Index of the statement in its file (0-based).
        index: usize,
        /// How long it ran.
        #[serde(rename = "duration_ms", serialize_with = "crate::serde_time::millis")]
        duration: Duration,
    },
    /// A migration finished and was recorded.
    MigrationFinished {
        /// Version.
        version: u64,
        /// Name.
        name: String,
        /// Up or down.
        direction: Direction,
        /// Wall time.
        #[serde(rename = "duration_ms", serialize_with = "crate::serde_time::millis")]
        duration: Duration,
    },
}

/// Where events go. Called from the connection task too, so it must be thread-safe.
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// A sink that drops every event.
pub fn ignore_events() -> EventSink {
    Arc::new(|_| {})
}

/// Where a batched statement stands after a committed batch.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatchProgress {
    /// Version.
    pub version: u64,
    /// Index of the statement in its file (0-based).
    pub index: usize,
    /// 1-based line where it starts.
    pub line: usize,
    /// The table walked.
    pub table: String,
    /// The walk this batch belongs to (rows are counted per walk).
    pub pass: BatchPass,
    /// Rows done so far in this walk (including batches of an interrupted run).
    pub rows_done: u64,
    /// Rows in the table, as the planner estimates them.
    pub rows_total: u64,
    /// Rows in this batch (for a page range, as estimated from the table's density).
    pub batch_rows: u64,
    /// How long this batch's transaction took.
    #[serde(rename = "batch_time_ms", serialize_with = "crate::serde_time::millis")]
    pub batch_time: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{LagLimit, Standby};

    /// What a program following a run reads when batches wait for a standby.
    #[test]
    fn a_wait_for_a_standby_reads_as_one_json_object() {
        let event = Event::ReplicationLag {
            version: 3,
            standby: Standby {
                name: "replica_a (10.0.0.7)".into(),
                behind: Some(80 << 20),
                lag: Some(Duration::from_millis(2100)),
            },
            limit: LagLimit::Bytes(64 << 20),
            waited: Duration::from_millis(5000),
        };
        let json = serde_json::to_value(&event).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "event": "replication_lag",
                "version": 3,
                "standby": {"name": "replica_a (10.0.0.7)", "behind_bytes": 83886080, "lag_ms": 2100},
                "limit": "64MB",
                "waited_ms": 5000
            })
        );
    }
}
