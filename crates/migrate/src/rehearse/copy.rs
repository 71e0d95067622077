//! The copy a rehearsal runs on: a file-level clone (`CREATE DATABASE …
//! TEMPLATE`) when nobody else is connected to the target, else pg_dump and
//! pg_restore (online, slower). Either way, what it cost is measured.

use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;

use serde::Serialize;
use tokio_postgres::Client;

use crate::backup::{self, BackupError, Tools};
use crate::connect::ConnectOptions;
use crate::error::Error;
use crate::ident::quote_ident;

/// How the copy was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// `CREATE DATABASE … TEMPLATE target` (a file copy; needs the target idle).
    Template,
    /// pg_dump of the target, pg_restore into a new database.
    Dump,
}

/// How to make the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choice {
    /// Template when the target is idle, else dump.
    #[default]
    Auto,
    /// Only a template copy.
    Template,
    /// Only pg_dump / pg_restore.
    Dump,
}

/// The copy that was made.
#[derive(Debug, Clone, Serialize)]
pub struct Copy {
    /// Its database name.
    pub database: String,
    /// How.
    pub method: Method,
    /// How long it took.
    #[serde(serialize_with = "crate::serde_time::millis")]
    pub duration: Duration,
    /// Its size on disk (pg_database_size).
    pub size_bytes: i64,
}

/// Makes `name` a copy of `target`, connected through `admin` (a session on
/// another database of the same server).
///
/// # Errors
/// Database and tool errors; nothing is left behind on failure.
pub async fn make(
    admin: &Client,
    target: &ConnectOptions,
    name: &str,
    choice: Choice,
    tools: &Tools,
    server: (&str, i32),
) -> Result<Copy, BackupError> {
    let started = Instant::now();
    let method = if choice == Choice::Dump {
        dump(admin, target, name, tools, server).await?
    } else {
        match template(admin, target, name).await {
            Ok(method) => method,
            Err(e) if in_use(&e) && choice == Choice::Auto => {
                dump(admin, target, name, tools, server).await?
            }
            Err(e) if in_use(&e) => {
                return Err(BackupError::SourceInUse {
                    name: target.dbname.clone(),
                })
            }
            Err(e) => return Err(BackupError::Engine(e)),
        }
    };
    let size_bytes: i64 = admin
        .query_one("SELECT pg_database_size($1) AS size", &[&name])
        .await
        .and_then(|row| row.try_get("size"))
        .map_err(|e| BackupError::Engine(Error::db("measuring the copy")(e)))?;
    Ok(Copy {
        database: name.to_string(),
        method,
        duration: started.elapsed(),
        size_bytes,
    })
}

async fn template(admin: &Client, target: &ConnectOptions, name: &str) -> Result<Method, Error> {
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(name),
            quote_ident(&target.dbname)
        ))
        .await
        .map_err(Error::db(
            "copying the target with CREATE DATABASE … TEMPLATE",
        ))?;
    Ok(Method::Template)
}

async fn dump(
    admin: &Client,
    target: &ConnectOptions,
    name: &str,
    tools: &Tools,
    (version, version_num): (&str, i32),
) -> Result<Method, BackupError> {
    let dir = std::env::temp_dir().join(format!("mantis-rehearse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| BackupError::Io {
        action: "create the directory",
        path: dir.clone(),
        source,
    })?;
    let file = dir.join(format!("{name}.dump"));
    let result = async {
        backup::dump(target, version, version_num, tools, &file).await?;
        let major = crate::session::server_major(version_num);
        backup::restore(admin, &target.with_dbname(name), major, tools, &file).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result.map(|_| Method::Dump)
}

/// The target had other sessions (SQLSTATE 55006).
fn in_use(e: &Error) -> bool {
    e.sqlstate() == Some(SqlState::OBJECT_IN_USE.code())
}

/// Drops the copy (a probe may still be connected to it).
///
/// # Errors
/// The database error.
pub async fn drop(admin: &Client, name: &str) -> Result<(), Error> {
    crate::scratch::drop_database(admin, name)
        .await
        .map_err(Error::db("dropping the rehearsal copy"))
}
