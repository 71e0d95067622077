//! Typed errors of the engine. Messages name the operands and say how to fix.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

use crate::types::Direction;
use crate::types::LockHolder;

/// A problem with one file of a migration set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileProblem {
    /// The file, as `origin/name`.
    pub file: String,
    /// What is wrong with it.
    pub problem: String,
}

/// The migration set could not be read or is malformed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SourceError {
    /// A directory or file could not be read.
    #[error("cannot read migration source {path}: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A directory holds no migration at all: most likely the wrong one (a
    /// run would do nothing and report success).
    #[error(
        "no migrations in {origin}: it holds no NNN_name.up.sql file{}\n  \
         hint: point --source at the directory that holds the NNN_name.up.sql files",
        if *nested > 0 { format!("; {nested} .sql file(s) lie in its subdirectories (e.g. {example}), which are not read") } else { String::new() }
    )]
    Empty {
        /// The directory.
        origin: String,
        /// `.sql` files found below it.
        nested: usize,
        /// One of them, relative to the directory.
        example: String,
    },
    /// One or more files are malformed; all of them are listed.
    #[error("{} invalid migration file(s) in {origin}:\n{}", problems.len(), list_problems(problems))]
    Invalid {
        /// The directory or embedded set.
        origin: String,
        /// Every problem found.
        problems: Vec<FileProblem>,
    },
}

fn list_problems(problems: &[FileProblem]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("  {}: {}", p.file, p.problem))
        .collect();
    lines.join("\n")
}

/// Connecting to the server failed. `target` is always the masked connection string.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The connection string or an environment variable is malformed.
    #[error("invalid connection settings: {0}")]
    InvalidSettings(String),
    /// No server answered.
    #[error("cannot reach PostgreSQL at {target}: {reason}\n  hint: is the server running? Check --database-url, DATABASE_URL or the PG* variables (scripts/ensure-postgres starts a local one)")]
    Unreachable {
        /// Masked connection string.
        target: String,
        /// What the network layer said.
        reason: String,
    },
    /// The server refused the credentials.
    #[error("authentication failed for {target}: {message}\n  hint: check the user and password (the password is never shown)")]
    Authentication {
        /// Masked connection string.
        target: String,
        /// The server's message.
        message: String,
    },
    /// The database does not exist.
    #[error("database \"{database}\" does not exist on {target}\n  hint: create it, or name another one in the connection string")]
    DatabaseMissing {
        /// Masked connection string.
        target: String,
        /// The missing database.
        database: String,
    },
    /// TLS could not be set up or the server's certificate was refused.
    #[error("TLS with {target} failed: {reason}")]
    Tls {
        /// Masked connection string.
        target: String,
        /// What went wrong.
        reason: String,
    },
    /// Any other error while connecting.
    #[error("cannot connect to {target}: {reason}")]
    Other {
        /// Masked connection string.
        target: String,
        /// What went wrong.
        reason: String,
    },
}

/// Where and how a statement of a migration failed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatementFailure {
    /// Migration version.
    pub version: u64,
    /// Migration name.
    pub name: String,
    /// Up or down.
    pub direction: Direction,
    /// The file that failed.
    pub file: String,
    /// 1-based line of the error in the file (the error position when the
    /// server gave one, else the statement's first line).
    pub line: usize,
    /// SQLSTATE, when the server sent one.
    pub sqlstate: Option<String>,
    /// Primary message.
    pub message: String,
    /// DETAIL, if any.
    pub detail: Option<String>,
    /// HINT, if any.
    pub hint: Option<String>,
    /// CONTEXT (e.g. the PL/pgSQL line), if any.
    pub context: Option<String>,
    /// True when the file ran in one transaction (so it was rolled back).
    pub transactional: bool,
    /// For a no-transaction file: statements that had completed.
    pub statements_done: usize,
    /// Statements in the file.
    pub statements_total: usize,
    /// True when the connection was lost (e.g. the backend was terminated).
    pub connection_lost: bool,
    /// For a lock timeout: the sessions last seen holding the lock (or
    /// queued ahead for it), as `pid (application as user, state for Ns: query)`.
    pub blocked_by: Option<String>,
}

impl fmt::Display for StatementFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.sqlstate.as_deref().unwrap_or("-----");
        write!(
            f,
            "migration {:03}_{} ({}) failed at {}:{}\n  ERROR {}: {}",
            self.version, self.name, self.direction, self.file, self.line, code, self.message
        )?;
        for (label, value) in [
            ("DETAIL", &self.detail),
            ("HINT", &self.hint),
            ("CONTEXT", &self.context),
            ("WAITING FOR", &self.blocked_by),
        ] {
            if let Some(value) = value {
                write!(f, "\n  {label}: {value}")?;
            }
        }
        write!(f, "\n  {}", self.outcome())
    }
}

impl StatementFailure {
    /// What state the failure left behind, in words.
    pub fn outcome(&self) -> String {
        if self.transactional {
            "the migration was rolled back: database and history are as they were".to_string()
        } else {
            format!(
                "no-transaction migration stopped after {} of {} statement(s); \
                 `mantis status` shows it as partial and the next `mantis {}` resumes at statement {}",
                self.statements_done,
                self.statements_total,
                self.direction,
                self.statements_done + 1
            )
        }
    }
}

/// Every way an engine operation can fail.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A batched statement names a table or key column that does not exist.
    #[error("batched statement: table {table} has no column {key} (or the table does not exist)\n  hint: fix the `-- mantis: batch table=… key=…` line above the statement")]
    BatchKey {
        /// The table, as written.
        table: String,
        /// The key column, as written.
        key: String,
    },
    /// The migration set is unreadable or malformed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The server could not be reached.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// An applied migration's file changed since it was applied.
    #[error("migration {version} was applied from a different file: {file}\n  applied checksum: {applied}\n  local checksum:   {local}\n  hint: restore the file as it was applied; write changes as a new migration")]
    ChecksumMismatch {
        /// Version.
        version: u64,
        /// The local file.
        file: String,
        /// Checksum recorded in history.
        applied: String,
        /// Checksum of the local file.
        local: String,
    },
    /// Versions recorded as applied are not in the migration set.
    #[error("applied migration(s) missing from {origin}: {}\n  hint: use the migration set they came from, or pass --allow-missing to go on without them", versions.join(", "))]
    MissingFromSet {
        /// The set's origin.
        origin: String,
        /// `NNN_name` of each missing version.
        versions: Vec<String>,
    },
    /// A pending migration is older than the newest applied one.
    #[error("migration {pending} is pending but the newer migration {applied} is already applied; out-of-order migrations are refused\n  hint: renumber {pending} above {applied}")]
    OutOfOrder {
        /// The pending version.
        pending: u64,
        /// The newest applied version.
        applied: u64,
    },
    /// `--to`/`--version` names a version that is not in the set.
    #[error("version {version} is not in the migration set {origin}")]
    UnknownVersion {
        /// The requested version.
        version: u64,
        /// The set's origin.
        origin: String,
    },
    /// `verify` found no verify file for the requested (or any) migration.
    #[error("{}", match version {
        Some(v) => format!("migration {v:03} has no verify file in {origin}"),
        None => format!("no migration in {origin} has a verify file"),
    })]
    NoVerifyScript {
        /// The requested version, if one was named.
        version: Option<u64>,
        /// The set's origin.
        origin: String,
    },
    /// `up --to V` with V below the current version, or `down --to V` above it.
    #[error("cannot go {direction} to version {target}: the database is at {}", current.map_or("no version".to_string(), |c| c.to_string()))]
    WrongDirection {
        /// Requested direction.
        direction: Direction,
        /// Requested target.
        target: u64,
        /// Current version.
        current: Option<u64>,
    },
    /// Down was asked for migrations that have no down file.
    #[error("cannot revert: no down file for {}\n  hint: write NNN_name.down.sql, or restore from a backup", versions.join(", "))]
    NoDownScript {
        /// `NNN_name` of each migration lacking a down file.
        versions: Vec<String>,
    },
    /// Another runner held the lock for longer than we were willing to wait.
    #[error("gave up after {waited:?} waiting for the migration lock{}\n  hint: wait for that run to finish, or raise --lock-wait", holder.as_ref().map(|h| format!(", held by {h}")).unwrap_or_default())]
    LockWaitTimeout {
        /// How long we waited.
        waited: Duration,
        /// Who held it, if known.
        holder: Option<LockHolder>,
    },
    /// The session-level advisory lock vanished: a transaction-mode pooler is in the way.
    #[error("the migration lock is no longer held by this session (backend pid {expected_pid}, now {current_pid})\n  hint: a transaction-mode connection pooler (PgBouncer) hands each transaction to another server connection; connect to the server directly or through a session-mode pool")]
    LockLost {
        /// Backend pid that took the lock.
        expected_pid: i32,
        /// Backend pid now answering.
        current_pid: i32,
    },
    /// A command that needs one server session was pointed at a
    /// transaction-mode pooler (refused before anything was done).
    #[error("{command} needs one server session, and {target} goes through a transaction-mode connection pooler: {evidence}\n  hint: each transaction may run on another server connection, so a session lock and session settings would be split across them (and the lock left behind on one); nothing was done. Use {instead}, as --migration-url or MANTIS_DIRECT_URL (reports and postings work through the pooler)")]
    TransactionPooler {
        /// What needed the session (`up`, `deploy`, …).
        command: String,
        /// The masked connection string.
        target: String,
        /// What showed the pooler.
        evidence: String,
        /// Which connection to use instead.
        instead: String,
    },
    /// A no-transaction migration stopped half-way and blocks this command.
    #[error("migration {version:03}_{name} is partially applied ({direction}, {done} of {total} statements){}\n  hint: {hint}", last_error.as_ref().map(|e| format!("; last error: {e}")).unwrap_or_default())]
    Partial {
        /// Version.
        version: u64,
        /// Name.
        name: String,
        /// Direction of the interrupted run.
        direction: Direction,
        /// Statements done.
        done: usize,
        /// Statements in the file.
        total: usize,
        /// The error that stopped it, if recorded.
        last_error: Option<String>,
        /// What to do.
        hint: String,
    },
    /// `baseline` on a database that already has history.
    #[error("cannot baseline: the database already has migration history (latest version {latest})\n  hint: baseline is for databases that were never managed by mantis")]
    AlreadyManaged {
        /// Newest applied version.
        latest: u64,
    },
    /// A scratch database name is taken by a database mantis did not create.
    #[error("database \"{name}\" exists and was not created by mantis; it is left alone\n  hint: choose another name")]
    ForeignDatabase {
        /// The database name.
        name: String,
    },
    /// The live schema is not what the applied migrations define: checked with
    /// the drift checks of every applied migration's verify file, in order,
    /// before building on it; the first that finds drift is named.
    #[error(
        "refusing to migrate: the database does not match migration {version:03}, which its history says is applied\n  \
         checked with {file}; what differs:\n{}\n  \
         hint: bring the database back to what {version:03} defines (each line says what differs; a check of \
         values names the rows and how to fix them), or record the right version with `mantis baseline`; \
         --no-drift-check skips this check",
        findings.iter().map(|f| format!("  - {f}")).collect::<Vec<_>>().join("\n")
    )]
    Drift {
        /// The applied version whose checks failed.
        version: u64,
        /// Its verify file.
        file: String,
        /// One line per failed check: the check and what was found.
        findings: Vec<String>,
    },
    /// Objects a pending migration creates already exist, and no applied
    /// migration of the set created them: refused before any change.
    #[error(
        "refusing to run {version:03}_{name}: {} object(s) it creates already exist, made by someone else; \
         mantis never adopts, replaces or drops what it did not create\n{}\n  \
         nothing was changed; resolve each, then run up again (--no-drift-check skips this check)\n  \
         hint: if this database already has what {version:03} creates (applied by hand or by another tool), \
         record that instead of running it: mantis baseline --version {version} (it checks the schema first)",
        conflicts.len(),
        conflicts.iter().map(|c| format!("  - {}\n    resolve: {}", c.found, c.resolve)).collect::<Vec<_>>().join("\n")
    )]
    Conflicts {
        /// The migration's version.
        version: u64,
        /// Its name.
        name: String,
        /// What exists, and how to resolve it.
        conflicts: Vec<crate::types::Conflict>,
    },
    /// A pending migration writes rows of tables that carry triggers, rules
    /// or policies no migration of the set made: refused before any change.
    #[error(
        "refusing to run {version:03}_{name}: it writes rows of tables that carry {} trigger(s), rule(s) or \
         policy(ies) no migration of the set made; each would act on every row the migration writes \
         (a BEFORE trigger can change the values written, a rule can redirect them):\n{}\n  \
         nothing was changed; say how to treat them: --user-triggers fire lets them act on the migration's \
         writes as on any other (rehearse it first on a copy: mantis rehearse --user-triggers fire); \
         or disable them yourself for the run (ALTER TABLE … DISABLE TRIGGER …, which every session's \
         writes then skip) and enable them after",
        objects.len(),
        objects.iter().map(|o| format!("  - {o}")).collect::<Vec<_>>().join("\n")
    )]
    UserObjects {
        /// The migration's version.
        version: u64,
        /// Its name.
        name: String,
        /// What is there.
        objects: Vec<crate::user_objects::UserObject>,
    },
    /// `baseline` would record migrations whose checks the database fails.
    #[error(
        "refusing to baseline at {version:03}: the database does not have what the migrations up to {version:03} \
         define, so recording them as applied would be untrue; nothing was recorded\n{}\n  \
         hint: baseline the version the database really has (the first migration named above is not there), \
         then `mantis up`; or, if you know better, --force REASON records it anyway and logs the reason",
        findings.iter().map(|f| format!("  - {f}")).collect::<Vec<_>>().join("\n")
    )]
    BaselineMismatch {
        /// The version asked for.
        version: u64,
        /// One line per failed check, naming its migration.
        findings: Vec<String>,
    },
    /// The connected role may not read the migration history.
    #[error(
        "{during}: {message}: role {role} may not read the migration history (schema mantis)\n  \
         hint: the owner of schema mantis grants what every command that reads the history needs: \
         GRANT USAGE ON SCHEMA mantis TO {}; GRANT SELECT ON mantis.schema_migrations, mantis.migration_progress TO {};",
        crate::ident::quote_ident_readable(role),
        crate::ident::quote_ident_readable(role)
    )]
    HistoryNotReadable {
        /// The connected role.
        role: String,
        /// What was being read.
        during: &'static str,
        /// The server's words.
        message: String,
    },
    /// The database cannot be written (a standby, or read-only
    /// transactions): refused before anything is written.
    #[error("refusing to migrate {target}: the database cannot be written; nothing was done\n  {detail}")]
    ReadOnly {
        /// The masked connection string.
        target: String,
        /// Why, and what to do.
        detail: String,
    },
    /// A migration statement failed.
    #[error("{0}")]
    MigrationFailed(Box<StatementFailure>),
    /// A table named for a rehearsal probe does not exist.
    #[error("no table {table:?} to probe (give a table of the database, e.g. core.stock_on_hand)")]
    UnknownProbeTable {
        /// The name given.
        table: String,
    },
    /// mantis's own history tables hold something mantis never writes.
    #[error("migration history is damaged: {0}")]
    History(String),
    /// A bookkeeping query of the engine failed (the server's words are the
    /// source: [`describe_chain`] shows them).
    #[error("database error during {during}")]
    Database {
        /// What the engine was doing.
        during: &'static str,
        /// The driver error.
        source: tokio_postgres::Error,
    },
}

/// An error and its causes as one line, as a user should read it: a server's
/// error in its own words with its SQLSTATE (and DETAIL, HINT); the driver's
/// bare "db error" left out; no cause repeated.
pub fn describe_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let server = e
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(tokio_postgres::Error::as_db_error)
            .or_else(|| e.downcast_ref::<tokio_postgres::error::DbError>());
        let (text, next) = match server {
            // The server's error is the end of the chain.
            Some(db) => (server_words(db), None),
            None => (e.to_string(), e.source()),
        };
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = next;
    }
    parts.join(": ")
}

/// A server's error: its message and SQLSTATE, with its DETAIL and HINT.
pub fn server_words(db: &tokio_postgres::error::DbError) -> String {
    let mut text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
    for (label, value) in [("DETAIL", db.detail()), ("HINT", db.hint())] {
        if let Some(value) = value {
            text.push_str(&format!("; {label}: {value}"));
        }
    }
    text
}

impl Error {
    pub(crate) fn db(during: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
        move |source| Error::Database { during, source }
    }

    /// The SQLSTATE of a bookkeeping query that failed, if the server sent one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Database { source, .. } => source.code().map(|c| c.code()),
            _ => None,
        }
    }
}
