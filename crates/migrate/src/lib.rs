//! mantis-migrate: a PostgreSQL migration engine that knows exactly what state
//! a database is in.
//!
//! - [`MigrationSet`]: `NNN_name.up.sql` / `.down.sql` / `.verify.sql` files from a
//!   directory or embedded in a binary, validated before anything runs.
//! - [`ConnectOptions`] + [`Session`]: connection settings resolved like `psql`
//!   (URL, `DATABASE_URL`, `NEON_TARGET_URL`, `PG*`, `~/.pgpass`), TLS via rustls,
//!   passwords always masked.
//! - [`Migrator`]: status, plan, up, down and baseline, serialized by an advisory
//!   lock, with history in schema `mantis` written in the migration's own
//!   transaction.
//!
//! ```no_run
//! use mantis_migrate::{ignore_events, ConnectOptions, Direction, MigrationSet, Migrator, RunOptions, Session, Target};
//! # async fn demo() -> Result<(), mantis_migrate::Error> {
//! let set = MigrationSet::from_dir(std::path::Path::new("migrations"))?;
//! let options = ConnectOptions::resolve(None)?;
//! let session = Session::connect(&options, ignore_events()).await?;
//! let migrator = Migrator::new(set, RunOptions::default(), ignore_events());
//! let report = migrator.run(&session, Direction::Up, Target::Default).await?;
//! assert_eq!(report.version_after, migrator.set().latest());
//! # Ok(()) }
//! ```

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod backup;
pub mod batch;
pub mod blockers;
pub mod connect;
mod conninfo;
pub mod error;
pub mod event;
pub mod footprint;
pub mod history;
pub mod ident;
pub mod lock;
mod pgpass;
pub mod plan;
pub mod pooler;
pub mod preflight;
pub mod rehearse;
mod retry;
pub mod runner;
pub mod scratch;
pub mod script;
mod serde_time;
pub mod session;
pub mod source;
pub mod split;
mod sql;
pub mod status;
mod tls;
pub mod transaction;
pub mod types;
pub mod user_objects;
pub mod verify;

pub use connect::{ConnectOptions, SslMode};
pub use error::{
    describe_chain, server_words, ConnectError, Error, FileProblem, SourceError, StatementFailure,
};
pub use event::{ignore_events, BatchProgress, Event, EventSink};
pub use history::{AppliedMigration, DbState, Progress};
pub use plan::{Plan, Step};
pub use runner::{
    BatchOverrides, Completed, Migrator, RunOptions, RunReport, VerifyRun, DEFAULT_FLUSH_AFTER_KB,
};
pub use script::{Script, ScriptKind, ScriptOptions};
pub use session::Session;
pub use source::{Migration, MigrationSet};
pub use split::{split_statements, SplitError, Statement};
pub use status::{MigrationState, StatusEntry, StatusReport};
pub use types::{BatchPass, Blocker, Checksum, Conflict, Direction, LockHolder, Target};
