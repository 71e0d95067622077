//! Scratch databases: created by mantis, marked as such, and only ever dropped
//! by mantis when they carry that mark.

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
        .map_err(Error::db("looking up the scratch database"))?
        .map(|r| r.get(0));
    let outcome = match existing {
        None => Recreated::New,
        Some(comment) if comment == mark => {
            drop_database(admin, name).await?;
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

async fn drop_database(admin: &Session, name: &str) -> Result<(), Error> {
    // WITH (FORCE) (PostgreSQL 13+) ends sessions still connected to it.
    let force = if admin.server_version_num() >= 130_000 {
        " WITH (FORCE)"
    } else {
        ""
    };
    let sql = format!("DROP DATABASE {}{force}", quote_ident(name));
    admin
        .client()
        .batch_execute(&sql)
        .await
        .map_err(Error::db("dropping the old scratch database"))
}
