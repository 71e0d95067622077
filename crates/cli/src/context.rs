//! Turns arguments into library options: the global ones into a context,
//! a command's own (migration set, lock wait, run options) onto it.

use std::time::Duration;

use anyhow::{Context as _, Result};
use mantis_migrate::user_objects::UserObjects;
use mantis_migrate::{
    BatchOverrides, ConnectOptions, EventSink, MigrationSet, Migrator, RunOptions, Session,
};

use crate::args::{Global, LockWaitArg, OutputFormat, PlanArgs, RunArgs, SessionArg, SetArgs};
use crate::events::stderr_sink;
use crate::project::Project;

/// lock_timeout of migration statements when neither flag, environment nor
/// mantis.toml sets one.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// What every command needs.
pub struct Context {
    pub connect: ConnectOptions,
    /// The command, when it needs one server session: its sessions refuse a
    /// transaction-mode pooler.
    needs_session: Option<&'static str>,
    pub run: RunOptions,
    pub events: EventSink,
    /// `--format` (junit: `verify` only, csv: listings only; refused elsewhere).
    pub format: OutputFormat,
    /// -q: only what needs a human's attention on stderr (no progress bars).
    pub quiet: bool,
    source: Option<std::path::PathBuf>,
    /// mantis.toml's settings (empty without one).
    pub project: Project,
}

impl Context {
    /// Resolves connection settings; the embedded set and the library's run
    /// options until a command says otherwise.
    pub fn new(global: &Global) -> Result<Context> {
        let connect = ConnectOptions::resolve(global.database_url.as_deref())?;
        let run = RunOptions {
            tool_version: format!("mantis {}", env!("CARGO_PKG_VERSION")),
            ..RunOptions::default()
        };
        let project = Project::load()?;
        if let Some(path) = &project.path {
            tracing::info!("project settings from {}", path.display());
        }
        Ok(Context {
            connect,
            needs_session: None,
            run,
            events: stderr_sink(global.quiet, global.log_format),
            format: global.format,
            quiet: global.quiet,
            source: project.migrations_dir.clone(),
            project,
        })
    }

    /// For `command`, which needs one server session (a session lock,
    /// session settings): its `--migration-url` / `MANTIS_DIRECT_URL` when
    /// given, and sessions that refuse a transaction-mode pooler (exit 7).
    pub fn needing_session(mut self, command: &'static str, arg: &SessionArg) -> Result<Context> {
        if let Some(url) = &arg.migration_url {
            self.connect = ConnectOptions::resolve(Some(url))?;
        }
        self.needs_session = Some(command);
        Ok(self)
    }

    /// The command's migration set: `--source` (or MANTIS_SOURCE), else
    /// mantis.toml's, else the embedded set.
    pub fn with_set(mut self, set: &SetArgs) -> Context {
        if set.source.is_some() {
            self.source.clone_from(&set.source);
        }
        self
    }

    /// The migration directory chosen (None: the embedded set).
    pub fn source(&self) -> Option<&std::path::Path> {
        self.source.as_deref()
    }

    /// The command's wait for the migration lock (`--lock-wait`).
    pub fn with_lock_wait(mut self, lock: &LockWaitArg) -> Context {
        self.run.lock_wait = lock.lock_wait;
        self
    }

    /// The command's planning options: set, lock wait, history checks.
    pub fn with_plan(self, plan: &PlanArgs) -> Context {
        let mut ctx = self.with_set(&plan.set).with_lock_wait(&plan.lock);
        ctx.run.allow_missing = plan.allow_missing;
        ctx.run.check_drift = !plan.no_drift_check;
        ctx.run.user_objects = match plan.user_triggers {
            crate::args::UserTriggers::Refuse => UserObjects::Refuse,
            crate::args::UserTriggers::Fire => UserObjects::Fire,
        };
        ctx
    }

    /// The command's run options: planning, timeouts, retries, batch pace.
    pub fn with_run(self, run: &RunArgs) -> Context {
        let mut ctx = self.with_plan(&run.plan);
        let project = &ctx.project;
        ctx.run.lock_timeout = run
            .lock_timeout
            .or(project.lock_timeout)
            .unwrap_or(DEFAULT_LOCK_TIMEOUT);
        ctx.run.lock_retries = run.lock_retries.or(project.lock_retries).unwrap_or(3);
        ctx.run.statement_timeout = run
            .statement_timeout
            .or(project.statement_timeout)
            .unwrap_or(Duration::ZERO);
        ctx.run.batch = BatchOverrides {
            time: run.batch_time,
            hold: run.batch_hold,
            pause: run.batch_pause,
            max_replication_lag: run.max_replication_lag,
        };
        ctx.run.flush_after_kb = run.flush_after;
        ctx
    }

    /// The migration set: `--source DIR`, else the embedded MantisNXT set.
    pub fn migration_set(&self) -> Result<MigrationSet> {
        let set = match &self.source {
            Some(dir) => MigrationSet::from_dir(dir)?,
            None => mantis_schema::migrations()?,
        };
        Ok(set)
    }

    /// A migrator over the migration set.
    pub fn migrator(&self) -> Result<Migrator> {
        self.migrator_with(self.events.clone())
    }

    /// A migrator reporting its events to `events`.
    pub fn migrator_with(&self, events: EventSink) -> Result<Migrator> {
        Ok(Migrator::new(
            self.migration_set()?,
            self.run.clone(),
            events,
        ))
    }

    /// A session on the configured database.
    pub async fn session(&self) -> Result<Session> {
        self.session_to(&self.connect).await
    }

    /// A session on another database of the same server.
    pub async fn session_to(&self, options: &ConnectOptions) -> Result<Session> {
        self.session_with(options, self.events.clone()).await
    }

    /// A session whose events (notices) go to `events`.
    pub async fn session_with(
        &self,
        options: &ConnectOptions,
        events: EventSink,
    ) -> Result<Session> {
        if let Some(command) = self.needs_session {
            mantis_migrate::pooler::require_session_by_name(options, command)?;
        }
        let session = Session::connect(options, events)
            .await
            .with_context(|| format!("connecting to database \"{}\"", options.dbname))?;
        if let Some(command) = self.needs_session {
            mantis_migrate::pooler::require_session(&session, command).await?;
        }
        Ok(session)
    }
}
