//! Turns global arguments into library options.

use anyhow::{Context as _, Result};
use mantis_migrate::{
    BatchOverrides, ConnectOptions, EventSink, MigrationSet, Migrator, RunOptions, Session,
};

use crate::args::{Format, Global, OutputFormat};
use crate::events::stderr_sink;

/// What every command needs.
pub struct Context {
    pub connect: ConnectOptions,
    pub run: RunOptions,
    pub events: EventSink,
    pub format: Format,
    /// `--format junit` (only `verify` renders it).
    pub junit: bool,
    /// `--format csv` (only listings render it).
    pub csv: bool,
    /// -q: only what needs a human's attention on stderr (no progress bars).
    pub quiet: bool,
    source: Option<std::path::PathBuf>,
}

impl Context {
    /// Resolves connection settings and run options.
    pub fn new(global: &Global) -> Result<Context> {
        let connect = ConnectOptions::resolve(global.database_url.as_deref())?;
        let run = RunOptions {
            lock_wait: global.lock_wait,
            lock_timeout: global.lock_timeout,
            statement_timeout: global.statement_timeout,
            lock_retries: global.lock_retries,
            allow_missing: global.allow_missing,
            check_drift: !global.no_drift_check,
            tool_version: format!("mantis {}", env!("CARGO_PKG_VERSION")),
            batch: BatchOverrides {
                time: global.batch_time,
                pause: global.batch_pause,
                max_replication_lag: global.max_replication_lag,
            },
            flush_after_kb: global.flush_after,
        };
        Ok(Context {
            connect,
            run,
            events: stderr_sink(global.quiet),
            format: match global.format {
                OutputFormat::Json => Format::Json,
                OutputFormat::Text | OutputFormat::Junit | OutputFormat::Csv => Format::Text,
            },
            junit: global.format == OutputFormat::Junit,
            csv: global.format == OutputFormat::Csv,
            quiet: global.quiet,
            source: global.source.clone(),
        })
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
        Session::connect(options, events)
            .await
            .with_context(|| format!("connecting to database \"{}\"", options.dbname))
    }
}
