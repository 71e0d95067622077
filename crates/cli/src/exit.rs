//! Exit codes: the contract with scripts and CI. Documented in README.md.

use mantis_migrate::backup::BackupError;
use mantis_migrate::{ConnectError, Error};
use mantis_workflows::demo::DemoError;
use mantis_workflows::deploy::DeployError;
use mantis_workflows::restore::RestoreError;

/// Every exit code the binary uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Success.
    Ok = 0,
    /// Unexpected internal or database error.
    Internal = 1,
    /// Bad usage: arguments or connection settings.
    Usage = 2,
    /// The server could not be reached, refused the login, or TLS failed.
    Connect = 3,
    /// The migration files are unreadable or malformed.
    Source = 4,
    /// Refused: the request does not fit the database's history (changed file,
    /// missing version, out of order, no down file, half-done run, …).
    Refused = 5,
    /// A migration statement failed (database left as before, or a resumable
    /// half-done marker for no-transaction files).
    MigrationFailed = 6,
    /// The migration lock could not be had, or was lost; or a command that
    /// needs one server session was pointed at a transaction-mode pooler.
    Lock = 7,
    /// Checks failed: `verify` found a check failing, `health` a value out of
    /// range, or `deploy` stopped at verification (and rolled back).
    ChecksFailed = 8,
    /// `lint` found a hazard at `--fail-on` or above (default: an error).
    LintFindings = 9,
}

impl ExitCode {
    /// The code for an engine error.
    pub fn of(error: &Error) -> ExitCode {
        match error {
            Error::Source(_) => ExitCode::Source,
            Error::Connect(e) => ExitCode::of_connect(e),
            Error::ChecksumMismatch { .. }
            | Error::MissingFromSet { .. }
            | Error::OutOfOrder { .. }
            | Error::UnknownVersion { .. }
            | Error::WrongDirection { .. }
            | Error::NoDownScript { .. }
            | Error::Partial { .. }
            | Error::AlreadyManaged { .. }
            | Error::ForeignDatabase { .. }
            | Error::Drift { .. }
            | Error::Conflicts { .. }
            | Error::UserObjects { .. }
            | Error::ReadOnly { .. }
            | Error::BaselineMismatch { .. }
            | Error::HistoryNotReadable { .. }
            | Error::History(_) => ExitCode::Refused,
            Error::MigrationFailed(_) => ExitCode::MigrationFailed,
            Error::UnknownProbeTable { .. } => ExitCode::Usage,
            Error::LockWaitTimeout { .. }
            | Error::LockLost { .. }
            | Error::TransactionPooler { .. } => ExitCode::Lock,
            _ => ExitCode::Internal,
        }
    }

    fn of_connect(error: &ConnectError) -> ExitCode {
        match error {
            ConnectError::InvalidSettings(_) => ExitCode::Usage,
            _ => ExitCode::Connect,
        }
    }

    /// The code for a backup error.
    pub fn of_backup(error: &BackupError) -> ExitCode {
        match error {
            BackupError::ToolMissing { .. }
            | BackupError::ToolTooOld { .. }
            | BackupError::InvalidDatabaseName { .. }
            | BackupError::Io { .. }
            | BackupError::NotAnArchive { .. } => ExitCode::Usage,
            BackupError::FileExists { .. }
            | BackupError::UnsafeDirectory { .. }
            | BackupError::DatabaseExists { .. }
            | BackupError::SourceInUse { .. } => ExitCode::Refused,
            BackupError::Engine(e) => ExitCode::of(e),
            _ => ExitCode::Internal,
        }
    }

    fn of_seed(error: &mantis_datagen::SeedError) -> ExitCode {
        use mantis_datagen::SeedError;
        match error {
            SeedError::Scale { .. } | SeedError::Warehouses { .. } => ExitCode::Usage,
            SeedError::Database { .. } => ExitCode::Internal,
            _ => ExitCode::Refused,
        }
    }

    fn of_posting(error: &mantis_inventory::PostingError) -> ExitCode {
        use mantis_inventory::PostingError;
        match error {
            PostingError::Rejected { .. } => ExitCode::Refused,
            PostingError::Database(_) => ExitCode::Internal,
            _ => ExitCode::Usage,
        }
    }

    fn of_catalog(error: &mantis_inventory::CatalogError) -> ExitCode {
        use mantis_inventory::CatalogError;
        match error {
            CatalogError::NotFound(_) | CatalogError::Invalid(_) => ExitCode::Usage,
            CatalogError::Rejected { .. } => ExitCode::Refused,
            _ => ExitCode::Internal,
        }
    }

    /// Why a deploy stopped: preflight refused, a step's own error, checks
    /// failed (rolled back), or the views could not be refreshed.
    fn of_deploy(error: &DeployError) -> ExitCode {
        match error {
            DeployError::Preflight { .. } => ExitCode::Refused,
            DeployError::Engine(e) | DeployError::UpFailed { error: e, .. } => ExitCode::of(e),
            DeployError::Backup(e) => ExitCode::of_backup(e),
            DeployError::VerifyFailed { .. } => ExitCode::ChecksFailed,
            DeployError::LintErrors { .. } => ExitCode::LintFindings,
            _ => ExitCode::Internal,
        }
    }

    fn of_demo(error: &DemoError) -> ExitCode {
        match error {
            DemoError::Engine(e) => ExitCode::of(e),
            DemoError::Seed(e) => ExitCode::of_seed(e),
            _ => ExitCode::Internal,
        }
    }

    /// Restoring a saved set: a set that does not fit the run is refused.
    fn of_restore(error: &RestoreError) -> ExitCode {
        match error {
            RestoreError::NoSuchSet { .. }
            | RestoreError::NotReapplied { .. }
            | RestoreError::NoScript { .. } => ExitCode::Refused,
            RestoreError::Engine(e) => ExitCode::of(e),
            _ => ExitCode::Internal,
        }
    }

    /// The code for any error the binary ends with.
    pub fn of_any(error: &anyhow::Error) -> ExitCode {
        error
            .chain()
            .find_map(|e| {
                if let Some(e) = e.downcast_ref::<Error>() {
                    Some(ExitCode::of(e))
                } else if let Some(e) = e.downcast_ref::<ConnectError>() {
                    Some(ExitCode::of_connect(e))
                } else if e.is::<mantis_migrate::SourceError>() {
                    Some(ExitCode::Source)
                } else if let Some(e) = e.downcast_ref::<BackupError>() {
                    Some(ExitCode::of_backup(e))
                } else if let Some(e) = e.downcast_ref::<mantis_datagen::SeedError>() {
                    Some(ExitCode::of_seed(e))
                } else if let Some(e) = e.downcast_ref::<mantis_inventory::PostingError>() {
                    Some(ExitCode::of_posting(e))
                } else if let Some(e) = e.downcast_ref::<mantis_inventory::CatalogError>() {
                    Some(ExitCode::of_catalog(e))
                } else if let Some(e) = e.downcast_ref::<DeployError>() {
                    Some(ExitCode::of_deploy(e))
                } else if let Some(e) = e.downcast_ref::<DemoError>() {
                    Some(ExitCode::of_demo(e))
                } else if let Some(e) = e.downcast_ref::<RestoreError>() {
                    Some(ExitCode::of_restore(e))
                } else {
                    e.downcast_ref::<Fail>().map(|f| f.code)
                }
            })
            .unwrap_or(ExitCode::Internal)
    }
}

/// An error decided by the binary itself, with the exit code it ends with.
#[derive(Debug)]
pub struct Fail {
    /// The exit code.
    pub code: ExitCode,
    /// What went wrong and how to fix it.
    pub message: String,
}

impl Fail {
    /// Refused (exit code 5).
    pub fn refused(message: impl Into<String>) -> anyhow::Error {
        Fail {
            code: ExitCode::Refused,
            message: message.into(),
        }
        .into()
    }

    /// Bad usage noticed after parsing (exit code 2).
    pub fn usage(message: impl Into<String>) -> anyhow::Error {
        Fail {
            code: ExitCode::Usage,
            message: message.into(),
        }
        .into()
    }

    /// Lint found hazards (exit code 9).
    pub fn lint(message: impl Into<String>) -> anyhow::Error {
        Fail {
            code: ExitCode::LintFindings,
            message: message.into(),
        }
        .into()
    }

    /// Checks did not pass (exit code 8).
    pub fn checks(message: impl Into<String>) -> anyhow::Error {
        Fail {
            code: ExitCode::ChecksFailed,
            message: message.into(),
        }
        .into()
    }
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Fail {}
