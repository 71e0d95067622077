//! Backups with the PostgreSQL client tools: `pg_dump` in custom format,
//! verified with `pg_restore --list`, checksummed, recorded in history; and
//! restoring one into a new database.
//!
//! The tools get the connection through libpq environment variables, so a
//! password never appears on a command line (where `ps` would show it).

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio::process::Command;
use tokio_postgres::Client;

use crate::connect::ConnectOptions;
use crate::error::Error;
use crate::ident::quote_ident;
use crate::session::Session;
use crate::sql;

/// Where the client tools are.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `pg_dump`.
    pub pg_dump: PathBuf,
    /// `pg_restore`.
    pub pg_restore: PathBuf,
}

impl Default for Tools {
    /// Both from PATH.
    fn default() -> Self {
        Tools {
            pg_dump: "pg_dump".into(),
            pg_restore: "pg_restore".into(),
        }
    }
}

/// Why a backup or restore did not happen.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BackupError {
    /// A client tool is not installed (or not where it was said to be).
    #[error("cannot run {tool}: {reason}\n  hint: install the PostgreSQL client tools (Debian: apt-get install postgresql-client-{server_major}), or name it with --{tool_flag}")]
    ToolMissing {
        /// The tool.
        tool: String,
        /// Its command-line flag name.
        tool_flag: String,
        /// The server's major version, for the hint.
        server_major: u32,
        /// Why it could not be started.
        reason: String,
    },
    /// pg_dump cannot dump a server newer than itself.
    #[error("{tool} is version {tool_major}, older than the server (PostgreSQL {server_major}): it cannot dump it\n  hint: install postgresql-client-{server_major} (Debian and Ubuntu: from the PostgreSQL apt repository, apt.postgresql.org) and name it with --pg-dump /usr/lib/postgresql/{server_major}/bin/pg_dump, or deploy with --no-backup after a backup of your own (e.g. a Neon branch)")]
    ToolTooOld {
        /// The tool.
        tool: String,
        /// Its major version.
        tool_major: u32,
        /// The server's major version.
        server_major: u32,
    },
    /// A tool ran and failed.
    #[error("{tool} failed ({status}): {stderr}")]
    ToolFailed {
        /// The tool.
        tool: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// The file to restore is not a pg_dump archive pg_restore can read.
    #[error("{} is not a backup pg_restore can read ({detail}); nothing was created\n  hint: give a file made by `mantis backup` or pg_dump --format=custom", path.display())]
    NotAnArchive {
        /// The file.
        path: PathBuf,
        /// What pg_restore said.
        detail: String,
    },
    /// The target file exists; backups never overwrite.
    #[error("{} already exists; a backup never overwrites a file\n  hint: choose another --file", path.display())]
    FileExists {
        /// The file.
        path: PathBuf,
    },
    /// The target directory lets anyone replace or remove the file.
    #[error("{} is writable by every user and has no sticky bit: anyone could replace or remove a backup written there\n  hint: choose a directory only you can write to (e.g. --file ~/backups/NAME.dump), or set its sticky bit (chmod +t)", path.display())]
    UnsafeDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// The target database exists; restore only creates new ones.
    #[error("database \"{name}\" already exists; restore only writes into a new database\n  hint: choose another --into")]
    DatabaseExists {
        /// The database.
        name: String,
    },
    /// The name of the database to create is not one PostgreSQL keeps as given.
    #[error("cannot restore into {name:?}: {reason}\n  hint: choose another --into")]
    InvalidDatabaseName {
        /// The name given.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// A file-level copy needs the source database idle, and it is not.
    #[error("cannot copy database \"{name}\" with CREATE DATABASE … TEMPLATE: other sessions are connected to it\n  hint: use --copy dump (pg_dump and pg_restore work while it is in use), or --copy auto")]
    SourceInUse {
        /// The database.
        name: String,
    },
    /// Reading or creating the backup file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done: `read`, `create the backup file`, …
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A bookkeeping query failed.
    #[error(transparent)]
    Engine(#[from] Error),
}

/// A verified backup file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its size.
    pub size_bytes: u64,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
    /// Entries `pg_restore --list` found in it.
    pub toc_entries: usize,
    /// The server's version (`server_version`).
    pub server_version: String,
    /// `pg_dump --version`.
    pub pg_dump: String,
    /// How long the dump took, in milliseconds.
    pub duration_ms: u64,
}

/// Dumps the database `options` names to `path` (custom format), verifies the
/// file and returns what it is. Nothing is written over an existing file.
///
/// # Errors
/// [`BackupError::FileExists`], [`BackupError::ToolMissing`],
/// [`BackupError::ToolTooOld`], [`BackupError::ToolFailed`].
pub async fn dump(
    options: &ConnectOptions,
    server_version: &str,
    server_version_num: i32,
    tools: &Tools,
    path: &Path,
) -> Result<BackupFile, BackupError> {
    let server_major = crate::session::server_major(server_version_num);
    let version = tool_version(&tools.pg_dump, "pg-dump", server_major).await?;
    let tool_major = major_of(&version).unwrap_or(0);
    if tool_major < server_major {
        return Err(BackupError::ToolTooOld {
            tool: tools.pg_dump.display().to_string(),
            tool_major,
            server_major,
        });
    }
    // pg_dump writes into this file and keeps its mode.
    private_file(path)?;
    let started = Instant::now();
    let mut command = Command::new(&tools.pg_dump);
    command.arg("--format=custom").arg("--file").arg(path);
    let result = run(
        &mut command,
        options,
        &tools.pg_dump,
        "pg-dump",
        server_major,
    )
    .await;
    if let Err(e) = result {
        // A half-written file is not a backup.
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let toc_entries = list(tools, path, server_major).await?;
    let (size_bytes, sha256) = digest(path)?;
    Ok(BackupFile {
        path: path.to_path_buf(),
        size_bytes,
        sha256,
        toc_entries,
        server_version: server_version.to_string(),
        pg_dump: version,
        duration_ms,
    })
}

/// Creates `path` empty, readable and writable by its owner only (mode 0600,
/// whatever the umask: a backup holds every row of the database), never over
/// an existing file, and never in a directory where anyone could replace it.
///
/// # Errors
/// [`BackupError::FileExists`], [`BackupError::UnsafeDirectory`], [`BackupError::Io`].
pub fn private_file(path: &Path) -> Result<(), BackupError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |source| BackupError::Io {
        action: "create the backup file",
        path: path.to_path_buf(),
        source,
    };
    let mode = std::fs::metadata(&dir)
        .map_err(|source| BackupError::Io {
            action: "create the backup file in the directory",
            path: dir.clone(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o002 != 0 && mode & 0o1000 == 0 {
        return Err(BackupError::UnsafeDirectory { path: dir });
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        // The umask cannot widen 0600, but may narrow it: set it exactly.
        .and_then(|file| file.set_permissions(std::fs::Permissions::from_mode(0o600)))
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => BackupError::FileExists {
                path: path.to_path_buf(),
            },
            _ => io(e),
        })
}

/// Counts the entries of a custom-format file with `pg_restore --list`;
/// fails when the file is not a readable backup.
///
/// # Errors
/// [`BackupError::ToolMissing`], [`BackupError::ToolFailed`].
pub async fn list(tools: &Tools, path: &Path, server_major: u32) -> Result<usize, BackupError> {
    let mut command = Command::new(&tools.pg_restore);
    command.arg("--list").arg(path);
    let output = spawn(&mut command, &tools.pg_restore, "pg-restore", server_major).await?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
        .count())
}

/// Records a verified backup in `mantis.backups`, with the schema version
/// the database had (history is created if it does not exist yet).
///
/// # Errors
/// [`Error::Database`].
pub async fn record(session: &Session, backup: &BackupFile) -> Result<Option<u64>, Error> {
    crate::history::ensure(session).await?;
    let schema_version = crate::history::read(session).await?.current();
    let size = i64::try_from(backup.size_bytes).unwrap_or(i64::MAX);
    let entries = i32::try_from(backup.toc_entries).unwrap_or(i32::MAX);
    let version = schema_version.and_then(|v| i64::try_from(v).ok());
    let duration = i64::try_from(backup.duration_ms).unwrap_or(i64::MAX);
    session
        .client()
        .execute(
            sql::RECORD_BACKUP,
            &[
                &backup.path.display().to_string(),
                &size,
                &backup.sha256,
                &entries,
                &backup.server_version,
                &backup.pg_dump,
                &version,
                &duration,
            ],
        )
        .await
        .map_err(Error::db("recording the backup"))?;
    Ok(schema_version)
}

/// PostgreSQL keeps at most 63 bytes of a name (NAMEDATALEN - 1) and cuts
/// the rest, so a longer name would create one database and restore into
/// another name.
fn check_database_name(name: &str) -> Result<(), BackupError> {
    let reason = if name.is_empty() {
        Some("the name is empty".to_string())
    } else if name.len() > 63 {
        Some(format!(
            "the name is {} bytes long; PostgreSQL keeps at most 63",
            name.len()
        ))
    } else if name.contains('\0') {
        Some("the name contains a NUL character".to_string())
    } else {
        None
    };
    reason.map_or(Ok(()), |reason| {
        Err(BackupError::InvalidDatabaseName {
            name: name.to_string(),
            reason,
        })
    })
}

/// Restores `path` into a new database `target.dbname`, created here. If the
/// restore fails, the new database is dropped again.
///
/// # Errors
/// [`BackupError::InvalidDatabaseName`], [`BackupError::DatabaseExists`], tool errors, database errors.
pub async fn restore(
    admin: &Client,
    target: &ConnectOptions,
    server_major: u32,
    tools: &Tools,
    path: &Path,
) -> Result<usize, BackupError> {
    if !path.is_file() {
        return Err(BackupError::Io {
            action: "read",
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    check_database_name(&target.dbname)?;
    let entries = list(tools, path, server_major).await.map_err(|e| match e {
        BackupError::ToolFailed { stderr, .. } => BackupError::NotAnArchive {
            path: path.to_path_buf(),
            detail: stderr,
        },
        other => other,
    })?;
    let exists: bool = admin
        .query_one(sql::DATABASE_EXISTS, &[&target.dbname])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(Error::db("looking up the target database"))?;
    if exists {
        return Err(BackupError::DatabaseExists {
            name: target.dbname.clone(),
        });
    }
    let name = quote_ident(&target.dbname);
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .map_err(Error::db("creating the target database"))?;
    let mut command = Command::new(&tools.pg_restore);
    command
        .arg("--exit-on-error")
        .arg("--no-owner")
        .arg("--dbname")
        .arg(&target.dbname)
        .arg(path);
    if let Err(e) = run(
        &mut command,
        target,
        &tools.pg_restore,
        "pg-restore",
        server_major,
    )
    .await
    {
        let _ = crate::scratch::drop_database(admin, &target.dbname).await;
        return Err(e);
    }
    Ok(entries)
}

/// Size and SHA-256 of a file, streamed.
fn digest(path: &Path) -> Result<(u64, String), BackupError> {
    let io = |source| BackupError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hash = Sha256::new();
    let size = std::io::copy(&mut file, &mut hash).map_err(io)?;
    Ok((size, hex::encode(hash.finalize())))
}

/// `pg_dump (PostgreSQL) 15.19 (Debian …)` → 15.
fn major_of(version: &str) -> Option<u32> {
    let after = version.split(')').nth(1)?.trim();
    after
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

async fn tool_version(tool: &Path, flag: &str, server_major: u32) -> Result<String, BackupError> {
    let mut command = Command::new(tool);
    command.arg("--version");
    let output = spawn(&mut command, tool, flag, server_major).await?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Runs a tool against the database `options` names.
async fn run(
    command: &mut Command,
    options: &ConnectOptions,
    tool: &Path,
    flag: &str,
    server_major: u32,
) -> Result<Output, BackupError> {
    command.env_remove("PGSERVICE").envs(options.libpq_env());
    spawn(command, tool, flag, server_major).await
}

async fn spawn(
    command: &mut Command,
    tool: &Path,
    flag: &str,
    server_major: u32,
) -> Result<Output, BackupError> {
    let output =
        command
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| BackupError::ToolMissing {
                tool: tool.display().to_string(),
                tool_flag: flag.to_string(),
                server_major,
                reason: e.to_string(),
            })?;
    if !output.status.success() {
        return Err(BackupError::ToolFailed {
            tool: tool.display().to_string(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions_are_read_from_tool_banners() {
        assert_eq!(
            major_of("pg_dump (PostgreSQL) 15.19 (Debian 15.19-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(major_of("pg_dump (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(major_of("pg_dump (PostgreSQL) 17devel"), Some(17));
        assert_eq!(major_of("something else"), None);
    }
}
