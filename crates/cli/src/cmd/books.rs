//! What the inventory commands share: a connection to a database whose schema
//! has the objects they need.

use anyhow::Result;
use tokio_postgres::Client;

use crate::context::Context;
use crate::exit::Fail;

/// Migration 003: views, brands, contact columns.
pub const VIEWS: u64 = 3;
/// Migration 005: the ledger's rules (004), set-based posting and the archive.
pub const LEDGER: u64 = 5;
/// Migration 006: postings need the database to refuse NaN in every column of
/// the books (a posting onto a NaN stock row would spread it).
pub const POSTING: u64 = 6;

/// A client to a database at `needed` or later, or a refusal saying what to run.
pub async fn client(ctx: &Context, needed: u64, what: &str) -> Result<Client> {
    let session = ctx.session().await?;
    let status = ctx.migrator()?.status(&session).await?;
    if status.current.unwrap_or(0) < needed {
        return Err(Fail::refused(format!(
            "{what} needs migration {needed:03}; the database is at version {}: run `mantis up` first",
            crate::output::version(status.current)
        )));
    }
    Ok(session.into_client())
}
