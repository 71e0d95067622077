//! The driver loop: one loop serves `up`, `down` and their dry runs (`plan`),
//! always under the migration lock. `statementwise` runs no-transaction files.

mod settings;
mod statementwise;

use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;

use tokio_postgres::error::ErrorPosition;
use tokio_postgres::Client;

use crate::batch::CommitWatch;
use crate::blockers::{self, LockWatch};
use crate::error::{Error, StatementFailure};
use crate::event::{Event, EventSink};
use crate::footprint;
use crate::history::{self, DbState, Record};
use crate::lock::{self, LockGuard};
use crate::plan::{self, Plan, Step};
use crate::retry::LockRetry;
use crate::session::Session;
use crate::source::MigrationSet;
use crate::split::Statement;
use crate::status::{self, StatusReport};
use crate::types::{Direction, Target};
use crate::verify;

use settings::{reset_session_settings, set_flush_after, set_timeout, set_wal_compression};

/// `backend_flush_after` of a migration session unless told otherwise: the
/// most the server accepts (with 8 kB pages); ADR-028, "Dirty pages".
pub const DEFAULT_FLUSH_AFTER_KB: u32 = 2048;

/// How the runner behaves.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How long to wait for another runner's lock before giving up.
    pub lock_wait: Duration,
    /// `lock_timeout` for migration statements: a DDL waiting longer than this
    /// for a table lock is cancelled (and retried), so it cannot stall every
    /// query queued behind it (PostgreSQL docs, "Explicit Locking").
    pub lock_timeout: Duration,
    /// `statement_timeout` for migration statements (zero = none).
    pub statement_timeout: Duration,
    /// How many times a statement cancelled by `lock_timeout` is retried.
    pub lock_retries: u32,
    /// Go on when applied versions are missing from the set.
    pub allow_missing: bool,
    /// Recorded in history, e.g. `mantis 0.1.0`.
    pub tool_version: String,
    /// Before migrating up, run the verify file of the newest applied
    /// migration and refuse when the live schema differs from it.
    pub check_drift: bool,
    /// How batched statements are paced, over what their files say.
    pub batch: BatchOverrides,
    /// `backend_flush_after` of the migration session, in kB (0 = never):
    /// the OS is asked to write the pages the session evicts once this much
    /// is pending, so a backfill does not leave gigabytes of dirty pages in
    /// the OS cache whose flush (at a checkpoint, or an index build's fsync)
    /// stalls every other session's commit behind it.
    pub flush_after_kb: u32,
    /// What to do about triggers, rules and policies no migration of the set
    /// made on the tables a pending migration writes.
    pub user_objects: crate::user_objects::UserObjects,
}

/// Pacing of batched statements set for a run (`--batch-time`,
/// `--batch-hold`, `--batch-pause`, `--max-replication-lag`), over each file's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOverrides {
    /// Target time of a batch.
    pub time: Option<Duration>,
    /// The longest a batch may hold its row locks.
    pub hold: Option<Duration>,
    /// Pause between batches.
    pub pause: Option<Duration>,
    /// Hold batches while a standby is further behind than this (default:
    /// 64 MB of WAL not yet replayed).
    pub max_replication_lag: crate::batch::LagLimit,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            lock_wait: Duration::from_secs(60),
            lock_timeout: Duration::from_secs(5),
            statement_timeout: Duration::ZERO,
            lock_retries: 3,
            allow_missing: false,
            tool_version: format!("mantis-migrate {}", env!("CARGO_PKG_VERSION")),
            check_drift: true,
            batch: BatchOverrides::default(),
            flush_after_kb: DEFAULT_FLUSH_AFTER_KB,
            user_objects: crate::user_objects::UserObjects::default(),
        }
    }
}

/// Whether a run changes the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Apply,
    Plan,
}

/// The checks of one migration, run against a database.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyRun {
    /// The migration whose checks ran.
    pub version: u64,
    /// Its name.
    pub name: String,
    /// Whether history records it as applied.
    pub applied: bool,
    /// The database's version.
    pub current: Option<u64>,
    /// The outcome.
    pub report: verify::VerifyReport,
}

/// A migration that ran.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Completed {
    /// Version.
    pub version: u64,
    /// Name.
    pub name: String,
    /// Up, down (or up for a baseline).
    pub direction: Direction,
    /// Wall time in milliseconds.
    pub duration_ms: i64,
}

/// What a run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    /// The plan that was followed (or would be, for a dry run).
    pub plan: Plan,
    /// True when nothing was executed.
    pub dry_run: bool,
    /// Migrations that ran, in order.
    pub completed: Vec<Completed>,
    /// The database's version afterwards.
    pub version_after: Option<u64>,
}

/// Runs a migration set against databases.
pub struct Migrator {
    set: MigrationSet,
    options: RunOptions,
    events: EventSink,
}

impl Migrator {
    /// A migrator for `set`.
    pub fn new(set: MigrationSet, options: RunOptions, events: EventSink) -> Self {
        Migrator {
            set,
            options,
            events,
        }
    }

    /// The migration set.
    pub fn set(&self) -> &MigrationSet {
        &self.set
    }

    /// Reads history and compares it with the set. Changes nothing, takes no lock.
    ///
    /// # Errors
    /// [`Error::Database`] when history cannot be read.
    pub async fn status(&self, session: &Session) -> Result<StatusReport, Error> {
        let state = history::read(session).await?;
        Ok(status::status(&self.set, &state, session.target()))
    }

    /// Applies (up) or reverts (down) migrations towards `target`.
    ///
    /// # Errors
    /// Every refusal of [`plan::plan`], lock errors, and
    /// [`Error::MigrationFailed`] when a statement fails.
    pub async fn run(
        &self,
        session: &Session,
        direction: Direction,
        target: Target,
    ) -> Result<RunReport, Error> {
        self.locked(session, direction, target, Mode::Apply).await
    }

    /// What [`Migrator::run`] would do, with every check it makes (history,
    /// drift, footprint conflicts), changing nothing.
    ///
    /// # Errors
    /// Every refusal of [`plan::plan`] and lock errors.
    pub async fn plan(
        &self,
        session: &Session,
        direction: Direction,
        target: Target,
    ) -> Result<RunReport, Error> {
        self.locked(session, direction, target, Mode::Plan).await
    }

    async fn locked(
        &self,
        session: &Session,
        direction: Direction,
        target: Target,
        mode: Mode,
    ) -> Result<RunReport, Error> {
        let guard = lock::acquire(session, self.options.lock_wait, &self.events).await?;
        let result = self
            .run_locked(session, &guard, direction, target, mode == Mode::Plan)
            .await;
        lock::release(session, guard).await;
        result
    }

    async fn run_locked(
        &self,
        session: &Session,
        guard: &LockGuard,
        direction: Direction,
        target: Target,
        dry_run: bool,
    ) -> Result<RunReport, Error> {
        if !dry_run {
            crate::preflight::require_writable(session).await?;
            history::ensure(session).await?;
        }
        let state = history::read(session).await?;
        let plan = plan::plan(
            &self.set,
            &state,
            direction,
            target,
            self.options.allow_missing,
        )?;
        self.check_drift(session, &state, &plan).await?;
        self.check_footprints(session, &state, &plan).await?;
        self.check_user_objects(session, &plan).await?;
        if dry_run {
            let version_after = plan.current;
            return Ok(RunReport {
                plan,
                dry_run,
                completed: Vec::new(),
                version_after,
            });
        }
        let watch = LockWatch::open(session).await;
        let commits = CommitWatch::default();
        let mut completed = Vec::new();
        for step in &plan.steps {
            lock::ensure_held(session, guard).await?;
            let done = self
                .with_step_settings(
                    session,
                    self.run_step(session, guard, &watch, &commits, step),
                )
                .await?;
            completed.push(done);
        }
        // Every step ran (a failure returns early), so the plan's target is where we are.
        let version_after = plan.target;
        Ok(RunReport {
            plan,
            dry_run,
            completed,
            version_after,
        })
    }

    /// Runs the checks of migration `version` (default: the newest migration
    /// that has a verify file), whether or not it is applied: a database
    /// without it fails the checks, which is the point.
    ///
    /// # Errors
    /// [`Error::UnknownVersion`], [`Error::NoVerifyScript`], and database
    /// errors of the verify transaction itself.
    pub async fn verify(
        &self,
        session: &Session,
        version: Option<u64>,
        options: &verify::VerifyOptions,
    ) -> Result<VerifyRun, Error> {
        let state = history::read(session).await?;
        let migration = match version {
            Some(v) => self.set.get(v).ok_or_else(|| Error::UnknownVersion {
                version: v,
                origin: self.set.origin().to_string(),
            })?,
            None => self.newest_verifiable(&state)?,
        };
        let suite = migration
            .verify_suite()
            .ok_or_else(|| Error::NoVerifyScript {
                version,
                origin: self.set.origin().to_string(),
            })?;
        let report = verify::run(session.client(), &suite, options).await?;
        Ok(VerifyRun {
            version: migration.version,
            name: migration.name.clone(),
            applied: state.applied(migration.version).is_some(),
            current: state.current(),
            report,
        })
    }

    /// The checks of every migration `run` applied that has a verify file, in
    /// order: what a deploy or a demo must prove before it says it succeeded.
    ///
    /// # Errors
    /// The engine's error when a suite cannot run at all.
    pub async fn verify_applied(
        &self,
        session: &Session,
        run: &RunReport,
        options: &verify::VerifyOptions,
    ) -> Result<Vec<VerifyRun>, Error> {
        let mut runs = Vec::new();
        for done in &run.completed {
            let has_checks = self
                .set()
                .get(done.version)
                .is_some_and(|m| m.verify.is_some());
            if has_checks {
                runs.push(self.verify(session, Some(done.version), options).await?);
            }
        }
        Ok(runs)
    }

    /// The checks of the whole schema: every applied migration's verify file,
    /// in order, each without the checks a later applied one supersedes —
    /// what the database should be now. Before anything is applied: the
    /// newest migration's checks, reported as not applied.
    ///
    /// # Errors
    /// [`Error::NoVerifyScript`] when no migration has checks, and database
    /// errors of the verify transactions themselves.
    pub async fn verify_schema(
        &self,
        session: &Session,
        options: &verify::VerifyOptions,
    ) -> Result<Vec<VerifyRun>, Error> {
        let state = history::read(session).await?;
        let suites = self.applied_suites(&state);
        if suites.is_empty() {
            return Ok(vec![self.verify(session, None, options).await?]);
        }
        let mut runs = Vec::with_capacity(suites.len());
        for (migration, suite) in suites {
            runs.push(VerifyRun {
                version: migration.version,
                name: migration.name.clone(),
                applied: true,
                current: state.current(),
                report: verify::run(session.client(), &suite, options).await?,
            });
        }
        Ok(runs)
    }

    /// Every applied migration that has checks, in order, with its suite
    /// minus what later applied suites supersede.
    fn applied_suites(&self, state: &DbState) -> Vec<(&crate::Migration, verify::Suite)> {
        let applied: Vec<(&crate::Migration, verify::Suite)> = self
            .set
            .migrations()
            .iter()
            .filter(|m| state.applied(m.version).is_some())
            .filter_map(|m| m.verify_suite().map(|s| (m, s)))
            .collect();
        applied
            .iter()
            .enumerate()
            .map(|(i, (migration, suite))| {
                let later: Vec<&verify::Suite> = applied[i + 1..].iter().map(|(_, s)| s).collect();
                (
                    *migration,
                    suite.without_superseded(migration.version, &later),
                )
            })
            .collect()
    }

    /// The migration `verify` checks by default: the newest applied one that
    /// has a verify file (what the database should be now), or, before any is
    /// applied, the newest in the set.
    fn newest_verifiable(&self, state: &DbState) -> Result<&crate::Migration, Error> {
        let mut with_checks = self
            .set
            .migrations()
            .iter()
            .rev()
            .filter(|m| m.verify.is_some());
        let newest = with_checks.clone().next();
        with_checks
            .find(|m| state.applied(m.version).is_some())
            .or(newest)
            .ok_or_else(|| Error::NoVerifyScript {
                version: None,
                origin: self.set.origin().to_string(),
            })
    }

    /// Refuses to build on a schema that is not what the applied migrations
    /// left (the drift that broke the seed's package in production): the
    /// drift checks of every applied suite, in order (read-only checks of the
    /// schema; checks of data, and checks that write or take locks routine
    /// work waits for, opt out); the first suite that finds drift is named.
    /// Skipped when nothing is pending, going down, or resuming a half-done
    /// migration (its schema is mid-change by definition).
    async fn check_drift(
        &self,
        session: &Session,
        state: &DbState,
        plan: &Plan,
    ) -> Result<(), Error> {
        if !self.options.check_drift
            || plan.direction != Direction::Up
            || plan.steps.is_empty()
            || state.progress.is_some()
        {
            return Ok(());
        }
        for (migration, suite) in self.applied_suites(state) {
            let suite = suite.drift_checks();
            let report =
                verify::run(session.client(), &suite, &verify::VerifyOptions::default()).await?;
            if !report.passed() {
                return Err(Error::Drift {
                    version: migration.version,
                    file: suite.file,
                    findings: report.failures().map(|r| r.describe()).collect(),
                });
            }
        }
        Ok(())
    }

    /// Refuses, before anything changes, to run a migration up when an object
    /// it creates already exists and is not one the set's applied migrations
    /// created: mantis never adopts, replaces or (later, going down) drops
    /// what it did not create. Skipped when resuming a half-done migration
    /// (its own objects exist by definition) and with `--no-drift-check`.
    async fn check_footprints(
        &self,
        session: &Session,
        state: &DbState,
        plan: &Plan,
    ) -> Result<(), Error> {
        if !self.options.check_drift || plan.direction != Direction::Up || state.progress.is_some()
        {
            return Ok(());
        }
        let ours: Vec<footprint::Object> = self
            .set
            .migrations()
            .iter()
            .filter(|m| state.applied(m.version).is_some())
            .flat_map(|m| footprint::Footprint::of(&m.up).creates)
            .collect();
        for step in &plan.steps {
            let mut footprint = footprint::Footprint::of(&step.script);
            footprint
                .creates
                .retain(|o| !ours.iter().any(|mine| mine.same_object(o)));
            let conflicts = footprint::conflicts(session.client(), &footprint).await?;
            if !conflicts.is_empty() {
                return Err(Error::Conflicts {
                    version: step.version,
                    name: step.name.clone(),
                    conflicts,
                });
            }
        }
        Ok(())
    }

    /// Names the triggers, rules and policies that no migration of the set
    /// made on the tables each pending migration writes, and refuses before
    /// any change unless told to let them fire (then the events name them):
    /// they would act on every row the migration writes, and a trigger that
    /// rewrites values would change the books with nothing said.
    async fn check_user_objects(&self, session: &Session, plan: &Plan) -> Result<(), Error> {
        if plan.direction != Direction::Up {
            return Ok(());
        }
        let ours: Vec<footprint::Object> = self
            .set
            .migrations()
            .iter()
            .flat_map(|m| footprint::Footprint::of(&m.up).creates)
            .collect();
        for step in &plan.steps {
            let written = footprint::Footprint::of(&step.script);
            let found =
                crate::user_objects::on_written_tables(session.client(), &written, &ours).await?;
            if found.is_empty() {
                continue;
            }
            if self.options.user_objects == crate::user_objects::UserObjects::Refuse {
                return Err(Error::UserObjects {
                    version: step.version,
                    name: step.name.clone(),
                    objects: found,
                });
            }
            (self.events)(&Event::UserObjectsFire {
                version: step.version,
                objects: found.iter().map(ToString::to_string).collect(),
            });
        }
        Ok(())
    }

    /// Records every migration up to `version` as applied without running it,
    /// for a database that already has that schema but no history. What it
    /// records is checked first: the drift checks of every migration it
    /// records (as `up` runs them before building on it) must pass, unless
    /// `force` gives the reason to record it anyway (kept in the event log).
    ///
    /// # Errors
    /// [`Error::AlreadyManaged`] when history exists, [`Error::UnknownVersion`],
    /// [`Error::BaselineMismatch`] when the database is not what it would record.
    pub async fn baseline(
        &self,
        session: &Session,
        version: u64,
        force: Option<&str>,
    ) -> Result<RunReport, Error> {
        let guard = lock::acquire(session, self.options.lock_wait, &self.events).await?;
        let result = self.baseline_locked(session, version, force).await;
        lock::release(session, guard).await;
        result
    }

    /// The drift checks of every migration of `plan` (a baseline's), each
    /// suite without the checks a later one of the plan supersedes: one line
    /// per failure, naming the migration.
    async fn baseline_findings(
        &self,
        session: &Session,
        plan: &Plan,
    ) -> Result<Vec<String>, Error> {
        let suites: Vec<(u64, verify::Suite)> = plan
            .steps
            .iter()
            .filter_map(|step| self.set.get(step.version))
            .filter_map(|m| m.verify_suite().map(|s| (m.version, s)))
            .collect();
        let mut findings = Vec::new();
        for (i, (version, suite)) in suites.iter().enumerate() {
            let later: Vec<&verify::Suite> = suites[i + 1..].iter().map(|(_, s)| s).collect();
            let suite = suite.without_superseded(*version, &later).drift_checks();
            let report =
                verify::run(session.client(), &suite, &verify::VerifyOptions::default()).await?;
            findings.extend(
                report
                    .failures()
                    .map(|r| format!("{version:03}: {}", r.describe())),
            );
        }
        Ok(findings)
    }

    async fn baseline_locked(
        &self,
        session: &Session,
        version: u64,
        force: Option<&str>,
    ) -> Result<RunReport, Error> {
        if self.set.get(version).is_none() {
            let origin = self.set.origin().to_string();
            return Err(Error::UnknownVersion { version, origin });
        }
        crate::preflight::require_writable(session).await?;
        let state = history::read(session).await?;
        if let Some(latest) = state.current() {
            return Err(Error::AlreadyManaged { latest });
        }
        let plan = plan::plan(
            &self.set,
            &state,
            Direction::Up,
            Target::Version(version),
            false,
        )?;
        let findings = self.baseline_findings(session, &plan).await?;
        if !findings.is_empty() && force.is_none() {
            return Err(Error::BaselineMismatch { version, findings });
        }
        let note =
            force.map(|reason| format!("forced past {} failed check(s): {reason}", findings.len()));
        history::ensure(session).await?;
        let client = session.client();
        transaction(client, async {
            for step in &plan.steps {
                let mut record = self.record(step, 0, "baseline");
                record.note = note.as_deref();
                history::record(client, history::Action::Baseline, &record).await?;
            }
            Ok(())
        })
        .await?;
        let completed = plan
            .steps
            .iter()
            .map(|s| completed(s, Duration::ZERO))
            .collect();
        Ok(RunReport {
            plan,
            dry_run: false,
            completed,
            version_after: Some(version),
        })
    }

    /// The file's `lock-timeout=` header, else the run's.
    pub(crate) fn lock_timeout(&self, step: &Step) -> Duration {
        step.script
            .options
            .lock_timeout
            .unwrap_or(self.options.lock_timeout)
    }

    /// The file's `lock-retries=` header, else the run's.
    pub(crate) fn lock_retries(&self, step: &Step) -> u32 {
        step.script
            .options
            .lock_retries
            .unwrap_or(self.options.lock_retries)
    }

    async fn set_lock_timeout(&self, session: &Session, timeout: Duration) -> Result<(), Error> {
        set_timeout(session, "lock_timeout", timeout).await
    }

    /// Runs `step` under the run's session settings (timeouts, flush size).
    /// What a step set for its session (its own SETs, our timeouts) ends with
    /// it, failed or not: the next step, and whatever the caller runs next on
    /// this session (deploy's verify and refresh), start clean.
    async fn with_step_settings<T>(
        &self,
        session: &Session,
        step: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let applied = async {
            set_timeout(session, "lock_timeout", self.options.lock_timeout).await?;
            set_timeout(session, "statement_timeout", self.options.statement_timeout).await?;
            set_flush_after(session, self.options.flush_after_kb).await;
            set_wal_compression(session).await;
            Ok::<(), Error>(())
        }
        .await;
        let done = match applied {
            Ok(()) => step.await,
            Err(e) => Err(e),
        };
        reset_session_settings(session).await;
        done
    }

    async fn run_step(
        &self,
        session: &Session,
        guard: &LockGuard,
        watch: &LockWatch,
        commits: &CommitWatch,
        step: &Step,
    ) -> Result<Completed, Error> {
        (self.events)(&Event::MigrationStarted {
            version: step.version,
            name: step.name.clone(),
            direction: step.direction,
            file: step.file.clone(),
            resume_at: step.resume_at,
        });
        tracing::info!(version = step.version, name = %step.name, direction = %step.direction, "running migration");
        let own_timeout = step.script.options.lock_timeout.is_some();
        if own_timeout {
            self.set_lock_timeout(session, self.lock_timeout(step))
                .await?;
        }
        let duration = if step.transactional {
            self.run_transactional(session, watch, step).await
        } else {
            self.run_statementwise(session, guard, watch, commits, step)
                .await
        };
        if own_timeout {
            let restored = self
                .set_lock_timeout(session, self.options.lock_timeout)
                .await;
            if duration.is_ok() {
                restored?;
            }
        }
        let duration = duration?;
        (self.events)(&Event::MigrationFinished {
            version: step.version,
            name: step.name.clone(),
            direction: step.direction,
            duration,
        });
        Ok(completed(step, duration))
    }

    /// The whole file and its history row in one transaction, retried as a
    /// whole when a statement hits `lock_timeout`.
    async fn run_transactional(
        &self,
        session: &Session,
        watch: &LockWatch,
        step: &Step,
    ) -> Result<Duration, Error> {
        let started = std::cell::Cell::new(Instant::now());
        self.retrying(step, watch, || {
            started.set(Instant::now());
            self.try_transactional(session.client(), step, started.get())
        })
        .await?;
        Ok(started.get().elapsed())
    }

    /// Runs `attempt` (a whole transaction each time) until it succeeds,
    /// fails otherwise than by `lock_timeout`, or has run out of retries; a
    /// final lock timeout names who held the lock.
    async fn retrying<F, Fut>(
        &self,
        step: &Step,
        watch: &LockWatch,
        attempt: F,
    ) -> Result<(), Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<(), Error>>,
    {
        let retry = LockRetry {
            watch,
            lock_timeout: self.lock_timeout(step),
            attempts: self.lock_retries(step) + 1,
            version: step.version,
            events: &self.events,
        };
        let timed_out = |e: &Error| match e {
            Error::MigrationFailed(f) if is_lock_timeout(f) => Some(f.message.clone()),
            _ => None,
        };
        retry
            .run(attempt, timed_out)
            .await
            .map_err(|(e, seen)| match e {
                Error::MigrationFailed(mut f) if is_lock_timeout(&f) => {
                    f.blocked_by = blockers::describe(&seen);
                    Error::MigrationFailed(f)
                }
                e => e,
            })
    }

    async fn try_transactional(
        &self,
        client: &Client,
        step: &Step,
        started: Instant,
    ) -> Result<(), Error> {
        transaction(client, async {
            self.run_statements(client, step).await?;
            if step.undoes_partial {
                history::clear_progress(client, step.version).await?;
            }
            let elapsed = duration_ms(started.elapsed());
            history::record(
                client,
                step.direction.into(),
                &self.record(step, elapsed, step.script.mode()),
            )
            .await
        })
        .await
    }

    /// Every statement of a step's file, in order, in the caller's transaction.
    async fn run_statements(&self, client: &Client, step: &Step) -> Result<(), Error> {
        for (index, statement) in step.script.statements.iter().enumerate() {
            let started = self.statement_started(step, statement, index);
            if let Err(e) = client.batch_execute(&statement.sql).await {
                return Err(Error::MigrationFailed(Box::new(failure(
                    step, statement, index, &e,
                ))));
            }
            self.statement_finished(step, index, started);
        }
        Ok(())
    }

    fn statement_started(&self, step: &Step, statement: &Statement, index: usize) -> Instant {
        (self.events)(&Event::StatementStarted {
            version: step.version,
            index,
            line: statement.line,
        });
        Instant::now()
    }

    fn statement_finished(&self, step: &Step, index: usize, started: Instant) {
        (self.events)(&Event::StatementFinished {
            version: step.version,
            index,
            duration: started.elapsed(),
        });
    }

    fn record<'a>(&'a self, step: &'a Step, duration_ms: i64, mode: &'a str) -> Record<'a> {
        Record {
            version: step.version,
            name: &step.name,
            checksum: &step.checksum,
            duration_ms,
            tool_version: &self.options.tool_version,
            mode,
            note: None,
        }
    }
}

/// Runs `body` in a transaction of the migration session.
pub(super) async fn transaction<F>(client: &Client, body: F) -> Result<(), Error>
where
    F: std::future::Future<Output = Result<(), Error>>,
{
    crate::transaction::transaction(client, body, |e| {
        Error::db("starting or committing a transaction")(e)
    })
    .await
}

fn is_lock_timeout(f: &StatementFailure) -> bool {
    f.sqlstate.as_deref() == Some(SqlState::LOCK_NOT_AVAILABLE.code())
}

fn completed(step: &Step, duration: Duration) -> Completed {
    Completed {
        version: step.version,
        name: step.name.clone(),
        direction: step.direction,
        duration_ms: duration_ms(duration),
    }
}

pub(super) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Builds the report of a failed statement: file line from the server's error
/// position, SQLSTATE, and every field the server sent.
pub(super) fn failure(
    step: &Step,
    statement: &Statement,
    index: usize,
    error: &tokio_postgres::Error,
) -> StatementFailure {
    let db = error.as_db_error();
    let sqlstate = db.map(|d| d.code().code().to_string());
    let line = match db.and_then(|d| d.position()) {
        Some(ErrorPosition::Original(position)) => {
            statement.line + newlines_before(&statement.sql, *position)
        }
        _ => statement.line,
    };
    let connection_lost = error.is_closed()
        || sqlstate
            .as_deref()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P"));
    StatementFailure {
        version: step.version,
        name: step.name.clone(),
        direction: step.direction,
        file: step.file.clone(),
        line,
        message: db.map_or_else(|| error.to_string(), |d| d.message().to_string()),
        detail: db.and_then(|d| d.detail()).map(str::to_string),
        hint: db.and_then(|d| d.hint()).map(str::to_string),
        context: db.and_then(|d| d.where_()).map(str::to_string),
        sqlstate,
        transactional: step.transactional,
        statements_done: index,
        statements_total: step.statements,
        connection_lost,
        blocked_by: None,
    }
}

/// Newlines before a 1-based character position of `sql`.
fn newlines_before(sql: &str, position: u32) -> usize {
    let chars = usize::try_from(position.saturating_sub(1)).unwrap_or(usize::MAX);
    sql.chars().take(chars).filter(|c| *c == '\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_map_to_lines_counting_characters_not_bytes() {
        let sql = "select 'é'\n  from\n nowhere";
        assert_eq!(newlines_before(sql, 1), 0);
        let pos = sql.chars().position(|c| c == 'n').unwrap() as u32 + 1;
        assert_eq!(newlines_before(sql, pos), 2);
    }
}
