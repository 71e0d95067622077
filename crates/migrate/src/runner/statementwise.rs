//! No-transaction files: unit by unit, each committing on its own, progress
//! recorded after each so that an interrupted run resumes where it stopped.
//!
//! A unit is a single statement, an explicit `BEGIN … COMMIT` block (run and
//! retried as a whole: after a lock timeout inside it, the block's
//! transaction is aborted and only a retry from its BEGIN can succeed), or a
//! batched statement (crate::batch).

use futures_util::stream::{FuturesOrdered, StreamExt};
use std::ops::Range;
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;

use tokio_postgres::Client;

use super::{duration_ms, failure, transaction, Migrator};
use crate::batch::{self, BatchContext, CommitWatch};
use crate::blockers::LockWatch;
use crate::error::Error;
use crate::event::Event;
use crate::history;
use crate::lock::{self, LockGuard};
use crate::plan::Step;
use crate::script::{next_block_state, Script};
use crate::session::Session;
use crate::sql;

/// What the runner commits in one go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unit {
    /// One statement.
    One(usize),
    /// `BEGIN`, the statements, `COMMIT` (indexes of all of them).
    Block(Range<usize>),
    /// A batched statement.
    Batched(usize),
}

impl Unit {
    /// The index of its first statement (a block restarts at its BEGIN).
    fn start(&self) -> usize {
        match self {
            Unit::One(i) | Unit::Batched(i) => *i,
            Unit::Block(r) => r.start,
        }
    }

    /// The index of the first statement after the unit.
    fn end(&self) -> usize {
        match self {
            Unit::One(i) | Unit::Batched(i) => i + 1,
            Unit::Block(r) => r.end,
        }
    }
}

/// The units of `script` from statement `from` on.
fn units(script: &Script, from: usize) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut i = from;
    while i < script.statements.len() {
        let unit = if next_block_state(false, &script.statements[i]) {
            let mut end = i + 1;
            while end < script.statements.len() && next_block_state(true, &script.statements[end]) {
                end += 1;
            }
            Unit::Block(i..(end + 1).min(script.statements.len()))
        } else if script.batch(i).is_some() {
            Unit::Batched(i)
        } else {
            Unit::One(i)
        };
        i = unit.end();
        units.push(unit);
    }
    units
}

impl Migrator {
    pub(super) async fn run_statementwise(
        &self,
        session: &Session,
        guard: &LockGuard,
        watch: &LockWatch,
        commits: &CommitWatch,
        step: &Step,
    ) -> Result<Duration, Error> {
        let client = session.client();
        let started = Instant::now();
        let version = step.version;
        history::start_progress(
            client,
            version,
            &step.name,
            &step.script.checksum.to_hex(),
            step.direction,
            step.statements,
        )
        .await?;
        let units = units(&step.script, step.resume_at);
        if units.iter().any(|u| matches!(u, Unit::Batched(_))) {
            // The control commits' baseline is taken meanwhile.
            commits.start(session).await;
        }
        for unit in units {
            lock::ensure_held(session, guard).await?;
            let result = match &unit {
                Unit::One(i) => self.run_one(client, watch, step, *i).await,
                Unit::Block(range) => self.run_block(client, watch, step, range.clone()).await,
                Unit::Batched(i) => {
                    self.run_batched(session, guard, watch, commits, step, *i)
                        .await
                }
            };
            if let Err(mut e) = result {
                // What is done is what the marker records: a failed block
                // counts from its BEGIN, where the next run resumes it.
                if let Error::MigrationFailed(failure) = &mut e {
                    failure.statements_done = unit.start();
                }
                record_failure(client, version, &e).await;
                return Err(e);
            }
            history::advance_progress(client, version, unit.end()).await?;
        }
        let elapsed = duration_ms(started.elapsed());
        transaction(client, async {
            history::clear_progress(client, version).await?;
            history::record(
                client,
                step.direction.into(),
                &self.record(step, elapsed, step.script.mode()),
            )
            .await
        })
        .await?;
        Ok(started.elapsed())
    }

    async fn run_one(
        &self,
        client: &Client,
        watch: &LockWatch,
        step: &Step,
        index: usize,
    ) -> Result<(), Error> {
        let statement = &step.script.statements[index];
        let started = self.statement_started(step, statement, index);
        self.retrying(step, watch, || async {
            // Before every attempt: a concurrent build cancelled by
            // lock_timeout (while it waits for other transactions) leaves
            // its INVALID index, which `IF NOT EXISTS` would then skip. The
            // drop is part of the attempt: its own lock timeout is retried.
            let attempt = async {
                self.drop_invalid_index(client, step, index).await?;
                client.batch_execute(&statement.sql).await
            };
            attempt
                .await
                .map_err(|e| Error::MigrationFailed(Box::new(failure(step, statement, index, &e))))
        })
        .await?;
        self.statement_finished(step, index, started);
        Ok(())
    }

    /// An explicit block, from its BEGIN to its COMMIT; a lock timeout
    /// anywhere in it rolls it back and runs it again from its BEGIN.
    ///
    /// The block's statements go to the server together (pipelined), so the
    /// locks its DDL takes are held while the server works, never while this
    /// process waits for a CPU to read a reply and send the next statement.
    /// Its commit is asynchronous: the locks go when the commit is written,
    /// not when the WAL is flushed. The progress marker commits after it and
    /// no WAL is flushed out of order, so a crash loses the block only
    /// together with its marker, and the run resumes at the block's BEGIN.
    async fn run_block(
        &self,
        client: &Client,
        watch: &LockWatch,
        step: &Step,
        range: Range<usize>,
    ) -> Result<(), Error> {
        self.retrying(step, watch, || async {
            let mut replies: FuturesOrdered<_> = range
                .clone()
                .map(|index| async move {
                    let sql = block_statement_sql(step, range.start, index);
                    (index, client.batch_execute(&sql).await)
                })
                .collect();
            let block = &step.script.statements[range.clone()];
            let mut started = self.statement_started(step, &block[0], range.start);
            let mut failed = None;
            while let Some((index, reply)) = replies.next().await {
                match reply {
                    _ if failed.is_some() => {}
                    Ok(()) => {
                        self.statement_finished(step, index, started);
                        if let Some(next) = block.get(index + 1 - range.start) {
                            started = self.statement_started(step, next, index + 1);
                        }
                    }
                    Err(e) => {
                        let statement = &step.script.statements[index];
                        failed = Some(failure(step, statement, index, &e));
                    }
                }
            }
            match failed {
                None => Ok(()),
                Some(f) => {
                    // The COMMIT sent with the block ended its aborted
                    // transaction; a block the file leaves open is ended here.
                    if next_block_state(true, &block[block.len() - 1]) {
                        let _ = client.batch_execute("ROLLBACK").await;
                    }
                    Err(Error::MigrationFailed(Box::new(f)))
                }
            }
        })
        .await
    }

    async fn run_batched(
        &self,
        session: &Session,
        guard: &LockGuard,
        watch: &LockWatch,
        commits: &CommitWatch,
        step: &Step,
        index: usize,
    ) -> Result<(), Error> {
        let statement = &step.script.statements[index];
        let mut spec = step
            .script
            .batch(index)
            .expect("a batched unit has a spec")
            .clone();
        let pace = &self.options.batch;
        spec.time = pace.time.unwrap_or(spec.time);
        spec.hold = pace.hold.or(spec.hold);
        spec.pause = pace.pause.unwrap_or(spec.pause);
        let started = self.statement_started(step, statement, index);
        let cx = BatchContext {
            session,
            guard,
            watch,
            events: &self.events,
            version: step.version,
            index,
            line: statement.line,
            lock_timeout: self.lock_timeout(step),
            lock_retries: self.lock_retries(step),
            statement_timeout: self.options.statement_timeout,
            max_replication_lag: pace.max_replication_lag,
            commits,
        };
        batch::run(&cx, &spec, &statement.sql)
            .await
            .map_err(|e| match e {
                batch::BatchError::Statement(e, blocked_by) => {
                    let mut f = failure(step, statement, index, &e);
                    f.blocked_by = blocked_by;
                    Error::MigrationFailed(Box::new(f))
                }
                batch::BatchError::Engine(e) => e,
            })?;
        self.statement_finished(step, index, started);
        Ok(())
    }

    /// An interrupted `CREATE INDEX CONCURRENTLY` leaves an INVALID index
    /// behind, and `IF NOT EXISTS` would then skip it for good (PostgreSQL
    /// docs, "Building Indexes Concurrently"). Drop it first so the statement
    /// builds it again.
    async fn drop_invalid_index(
        &self,
        client: &Client,
        step: &Step,
        index: usize,
    ) -> Result<(), tokio_postgres::Error> {
        let Some((index, table)) = concurrent_index_target(&step.script.statements[index].sql)
        else {
            return Ok(());
        };
        let found = client
            .query_opt(sql::INVALID_INDEX, &[&index, &table])
            .await?;
        let Some(row) = found else {
            return Ok(());
        };
        let qualified: String = row.try_get(0)?;
        client
            .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {qualified}"))
            .await?;
        (self.events)(&Event::InvalidIndexDropped {
            version: step.version,
            index: qualified,
        });
        Ok(())
    }
}

/// What the pipeline sends for statement `index` of the block that begins
/// at `begin`: the block's BEGIN also makes its commit asynchronous.
fn block_statement_sql(step: &Step, begin: usize, index: usize) -> String {
    let sql = &step.script.statements[index].sql;
    if index == begin {
        format!("{sql}\n;\n{}", sql::ASYNC_COMMIT)
    } else {
        sql.clone()
    }
}

/// `(index, table)` of `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS]
/// name ON [ONLY] table …`, for unquoted names; None for anything else.
fn concurrent_index_target(sql: &str) -> Option<(String, String)> {
    let mut tokens = sql.split_whitespace().map(|t| t.to_ascii_lowercase());
    let mut next = || tokens.next();
    if next()? != "create" {
        return None;
    }
    let mut word = next()?;
    if word == "unique" {
        word = next()?;
    }
    if word != "index" || next()? != "concurrently" {
        return None;
    }
    let mut name = next()?;
    if name == "if" {
        (next()? == "not" && next()? == "exists").then_some(())?;
        name = next()?;
    }
    if next()? != "on" {
        return None;
    }
    let mut table = next()?;
    if table == "only" {
        table = next()?;
    }
    let table = table.split('(').next()?.to_string();
    let plain = |s: &str| !s.is_empty() && !s.contains('"');
    (plain(&name) && plain(&table)).then_some((name, table))
}

/// Keeps the error that stopped the run in the progress marker (the unit
/// that failed was rolled back; a session left in an aborted block is
/// rolled back first, so the marker can be written).
async fn record_failure(client: &Client, version: u64, error: &Error) {
    let Error::MigrationFailed(f) = error else {
        return;
    };
    if f.sqlstate.as_deref() == Some(SqlState::IN_FAILED_SQL_TRANSACTION.code()) {
        let _ = client.batch_execute("ROLLBACK").await;
    }
    history::fail_progress(
        client,
        version,
        &format!("{}:{}: {}", f.file, f.line, f.message),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::ScriptKind;

    #[test]
    fn concurrent_index_statements_name_their_index_and_table() {
        let target = |sql| concurrent_index_target(sql);
        assert_eq!(
            target("CREATE INDEX CONCURRENTLY IF NOT EXISTS products_brand_idx\n    ON core.products (brand_id)"),
            Some(("products_brand_idx".into(), "core.products".into()))
        );
        assert_eq!(
            target("create unique index concurrently i on only t(a)"),
            Some(("i".into(), "t".into()))
        );
        assert_eq!(target("CREATE INDEX i ON t (a)"), None);
        assert_eq!(target("CREATE INDEX CONCURRENTLY \"Odd\" ON t (a)"), None);
    }

    #[test]
    fn a_file_is_cut_into_statements_blocks_and_batches() {
        let script = Script::parse(
            "f.sql",
            "-- mantis: no-transaction\n\
             select 1;\n\
             BEGIN;\nselect 2;\nselect 3;\nCOMMIT;\n\
             -- mantis: batch table=t key=id\n\
             update t set a = 1 where id between current_setting('mantis.batch_first')::int \
             and current_setting('mantis.batch_last')::int;\n\
             select 4;",
            ScriptKind::Up,
        )
        .unwrap();
        assert_eq!(
            units(&script, 0),
            vec![
                Unit::One(0),
                Unit::Block(1..5),
                Unit::Batched(5),
                Unit::One(6)
            ]
        );
        assert_eq!(units(&script, 5), vec![Unit::Batched(5), Unit::One(6)]);
    }
}
