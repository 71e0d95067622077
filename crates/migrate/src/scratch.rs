//! Scratch databases: created by mantis, marked as such, and only ever dropped
//! by mantis when they carry that mark.

use tokio_postgres::Client;

use crate::error::Error;
use crate::ident::{quote_ident, quote_literal};
use crate::session::Session;
use crate::sql;

/// What happened to an existing database of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recreated {
    /// There was none.
    New,
    /// A previous scratch database with the same mark was dropped first.
    Replaced,
}

/// Creates database `name` marked with `mark`, replacing an earlier one with the
/// same mark. A database without the mark is never touched.
///
/// # Errors
/// [`Error::ForeignDatabase`] when `name` exists without the mark;
/// [`Error::Database`] when the server refuses (e.g. no CREATEDB privilege).
pub async fn recreate(admin: &Session, name: &str, mark: &str) -> Result<Recreated, Error> {
    let client = admin.client();
    let existing: Option<String> = client
        .query_opt(sql::DATABASE_COMMENT, &[&name])
        .await
        .and_then(|row| row.map(|r| r.try_get("comment")).transpose())
        .map_err(Error::db("looking up the scratch database"))?;
    let outcome = match existing {
        None => Recreated::New,
        Some(comment) if comment == mark => {
            drop_database(admin.client(), name)
                .await
                .map_err(Error::db("dropping the old scratch database"))?;
            Recreated::Replaced
        }
        Some(_) => {
            return Err(Error::ForeignDatabase {
                name: name.to_string(),
            });
        }
    };
    let create = format!("CREATE DATABASE {}", quote_ident(name));
    client
        .batch_execute(&create)
        .await
        .map_err(Error::db("creating the scratch database"))?;
    let comment = format!(
        "COMMENT ON DATABASE {} IS {}",
        quote_ident(name),
        quote_literal(mark)
    );
    client
        .batch_execute(&comment)
        .await
        .map_err(Error::db("marking the scratch database"))?;
    Ok(outcome)
}

/// Drops database `name` if it exists, ending the sessions still connected to
/// it: `WITH (FORCE)` from PostgreSQL 13; on 12, `pg_terminate_backend` first
/// (a session connecting in between makes the drop fail, it is not lost).
/// The one way mantis, its tests and its benchmarks drop a database.
///
/// # Errors
/// The server's error (e.g. not the owner).
pub async fn drop_database(admin: &Client, name: &str) -> Result<(), tokio_postgres::Error> {
    let version: i32 = admin
        .query_one(sql::SERVER_VERSION_NUM, &[])
        .await?
        .try_get("version_num")?;
    let force = if version >= 130_000 {
        " WITH (FORCE)"
    } else {
        admin
            .execute(sql::TERMINATE_DATABASE_SESSIONS, &[&name])
            .await?;
        ""
    };
    let drop = format!("DROP DATABASE IF EXISTS {}{force}", quote_ident(name));
    admin.batch_execute(&drop).await
}
