//! Batched statements: a backfill run in committed batches by key range.
//!
//! A statement of a no-transaction file preceded by the line
//!
//! ```sql
//! -- mantis: batch table=core.stock_on_hand key=id rows=2000 time=40ms pause=5ms
//! UPDATE core.stock_on_hand SET … WHERE id BETWEEN
//!     current_setting('mantis.batch_first')::uuid AND current_setting('mantis.batch_last')::uuid …;
//! ```
//!
//! is run once per batch of `table`'s rows in `key` order, each batch in its
//! own short transaction with `mantis.batch_first` / `mantis.batch_last` set
//! (inclusive, as text) to the batch's first and last key. The batch's
//! progress is committed with it, so a crash resumes at the next batch.
//! [`run`] does the work.
//!
//! With `order=physical` the statement first runs over ranges of the table's
//! pages (`mantis.batch_first_ctid` / `mantis.batch_last_ctid`, with the key
//! bounds spanning the table), so that a batch writes a few adjacent pages
//! instead of one page per row (a write in key order of random keys makes a
//! full-page image of a page per row after every checkpoint: 15 GB of WAL for
//! 003's cost backfill at a million products). Rows that moved behind the
//! page walk (an update elsewhere writes a new version where there is room)
//! are then found by the key walk, with the page bounds spanning the table;
//! the statement must therefore change only rows that still need it.
//! [`pages`] does the first walk (PostgreSQL 14 and later, which scan a ctid
//! range without reading the rest of the table; earlier servers walk keys only).

mod commits;
mod pace;
mod pages;
mod run;
mod standbys;

pub use commits::Baseline;
pub(crate) use commits::CommitWatch;
pub(crate) use run::{run, BatchContext, BatchError};
pub use standbys::{bytes, read as read_standbys, LagLimit, Standby, DEFAULT_LAG_LIMIT};

use crate::types::BatchPass;
use std::time::Duration;

/// How one batched statement is cut and paced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSpec {
    /// The table whose keys are walked, as written (`schema.table`).
    pub table: String,
    /// Its key column: unique, ordered by a btree index.
    pub key: String,
    /// The most rows in one batch (and the first batch's size).
    pub rows: u64,
    /// Target duration of a batch (its row locks are held that long): the
    /// next batch is sized in proportion to how long this one took, up to `rows`.
    pub time: Duration,
    /// The longest a batch may hold its row locks: a batch still running
    /// then is cancelled (`statement_timeout`), rolled back and tried again
    /// smaller. None: [`HOLD_FACTOR`] × `time`.
    pub hold: Option<Duration>,
    /// Pause between batches (a throttle for busy servers).
    pub pause: Duration,
    /// The order the rows are walked in.
    pub order: BatchOrder,
}

/// The order a batched statement walks its table in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOrder {
    /// Key ranges only.
    Key,
    /// Page ranges first, then key ranges for the rows that moved meanwhile.
    Physical,
}

/// A batch's lock budget over its target time when the file does not set
/// `hold=`: a batch of the target size may run twice as long as it should
/// (a busy CPU, a slow disk) before it is cut; 40 ms → 80 ms, under the
/// 100 ms `mantis rehearse --max-wait` that the online gate judges.
pub const HOLD_FACTOR: f64 = 2.0;

/// The prefix of a batch directive line.
pub const DIRECTIVE: &str = "mantis: batch";

impl BatchSpec {
    /// Parses the words after `-- mantis: batch`.
    ///
    /// # Errors
    /// What is missing or malformed, naming the accepted form.
    pub fn parse(words: &str) -> Result<BatchSpec, String> {
        let mut spec = BatchSpec {
            table: String::new(),
            key: String::new(),
            rows: 1000,
            time: Duration::from_millis(50),
            hold: None,
            pause: Duration::ZERO,
            order: BatchOrder::Key,
        };
        for word in words.split_whitespace() {
            let (name, value) = word
                .split_once('=')
                .ok_or_else(|| format!("`{word}` is not name=value ({FORM})"))?;
            match name {
                "table" => spec.table = identifier(value, 2)?,
                "key" => spec.key = identifier(value, 1)?,
                "rows" => spec.rows = rows(value)?,
                "time" => spec.time = millis(value)?,
                "hold" => spec.hold = Some(millis(value)?),
                "pause" => spec.pause = millis(value)?,
                "order" => spec.order = order(value)?,
                other => return Err(format!("unknown batch setting `{other}` ({FORM})")),
            }
        }
        if spec.table.is_empty() || spec.key.is_empty() {
            return Err(format!("a batch needs table= and key= ({FORM})"));
        }
        Ok(spec)
    }

    /// The longest one batch may hold its row locks (see [`BatchSpec::hold`]).
    pub fn hold_budget(&self) -> Duration {
        self.hold
            .unwrap_or_else(|| self.time.mul_f64(HOLD_FACTOR))
            .max(self.time)
    }

    /// The table, quoted part by part.
    pub(crate) fn quoted_table(&self) -> String {
        self.table
            .split('.')
            .map(quote)
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The key column, quoted.
    pub(crate) fn quoted_key(&self) -> String {
        quote(&self.key)
    }
}

const FORM: &str = "expected `-- mantis: batch table=SCHEMA.TABLE key=COLUMN \
                    [order=key|physical] [rows=N] [time=MSms] [hold=MSms] [pause=MSms]`";

fn identifier(value: &str, max_parts: usize) -> Result<String, String> {
    let parts: Vec<&str> = value.split('.').collect();
    let plain = |p: &&str| {
        p.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if parts.len() > max_parts || !parts.iter().all(plain) {
        return Err(format!(
            "`{value}` is not a plain lower-case name{} ({FORM})",
            if max_parts > 1 { " (schema.table)" } else { "" }
        ));
    }
    Ok(value.to_string())
}

fn order(value: &str) -> Result<BatchOrder, String> {
    match value {
        "key" => Ok(BatchOrder::Key),
        "physical" => Ok(BatchOrder::Physical),
        _ => Err(format!("order=`{value}` must be key or physical ({FORM})")),
    }
}

fn rows(value: &str) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("rows=`{value}` must be a positive number ({FORM})")),
    }
}

fn millis(value: &str) -> Result<Duration, String> {
    value
        .strip_suffix("ms")
        .and_then(|n| n.parse::<u64>().ok())
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{value}` must be milliseconds, e.g. 50ms ({FORM})"))
}

fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_directive_is_read() {
        let spec =
            BatchSpec::parse("table=core.stock_on_hand key=id rows=2000 time=40ms pause=5ms")
                .unwrap();
        assert_eq!(spec.table, "core.stock_on_hand");
        assert_eq!(spec.quoted_table(), "\"core\".\"stock_on_hand\"");
        assert_eq!(spec.quoted_key(), "\"id\"");
        assert_eq!(spec.rows, 2000);
        assert_eq!(spec.time, Duration::from_millis(40));
        assert_eq!(spec.pause, Duration::from_millis(5));
        assert_eq!(spec.order, BatchOrder::Key);
        assert_eq!(spec.hold_budget(), Duration::from_millis(80), "2 × time");
        let held = BatchSpec::parse("table=t key=k time=40ms hold=60ms").unwrap();
        assert_eq!(held.hold_budget(), Duration::from_millis(60));
        let short = BatchSpec::parse("table=t key=k time=40ms hold=10ms").unwrap();
        assert_eq!(
            short.hold_budget(),
            Duration::from_millis(40),
            "never under time"
        );
        let physical = BatchSpec::parse("table=t key=k order=physical").unwrap();
        assert_eq!(physical.order, BatchOrder::Physical);
    }

    #[test]
    fn defaults_apply_to_what_is_not_said() {
        let spec = BatchSpec::parse("table=t key=k").unwrap();
        assert_eq!(
            (spec.rows, spec.time, spec.pause),
            (1000, Duration::from_millis(50), Duration::ZERO)
        );
    }

    #[test]
    fn malformed_directives_say_what_is_wrong() {
        let err = |w| BatchSpec::parse(w).unwrap_err();
        assert!(err("table=t").contains("needs table= and key="));
        assert!(err("table=t key=k rows=0").contains("positive"));
        assert!(err("table=t key=k time=5s").contains("milliseconds"));
        assert!(err("table=t key=k hold=1s").contains("milliseconds"));
        assert!(err("table=a.b.c key=k").contains("plain lower-case name"));
        assert!(err("table=t key=\"K\"").contains("plain lower-case name"));
        assert!(err("table=t key=k size=5").contains("unknown batch setting `size`"));
        assert!(err("table t").contains("not name=value"));
        assert!(err("table=t key=k order=random").contains("key or physical"));
    }
}
