//! Databases kept for inspection after a failed test, kept bounded: each is
//! marked with the run that kept it, and the first database a later run
//! creates drops those of every earlier run. `test-databases` lists and drops
//! them (and the templates) by hand.

use mantis_migrate::ident::{quote_ident, quote_literal};
use tokio_postgres::Client;

/// How a kept database's comment starts.
const MARK: &str = "mantis test database kept for inspection";
/// How a template's comment starts.
pub(crate) const TEMPLATE_MARK: &str = "mantis test template";

/// One test run: nextest's run id, else the process that runs the test
/// binaries (cargo test runs them one after another as its children).
pub fn run_id() -> String {
    std::env::var("NEXTEST_RUN_ID")
        .unwrap_or_else(|_| format!("cargo-{}", std::os::unix::process::parent_id()))
}

/// Marks `name` as kept by this run for the test `label`.
///
/// # Errors
/// The server's error.
pub(crate) async fn mark(
    admin: &Client,
    name: &str,
    label: &str,
) -> Result<(), tokio_postgres::Error> {
    let comment = format!("{MARK}; run {}; test {label}", run_id());
    let sql = format!(
        "COMMENT ON DATABASE {} IS {}",
        quote_ident(name),
        quote_literal(&comment)
    );
    admin.batch_execute(&sql).await
}

/// A database the test kit made and left behind.
#[derive(Debug, Clone)]
pub struct Leftover {
    /// Database name.
    pub name: String,
    /// Its comment: which run and test kept it, or that it is a template.
    pub comment: String,
    /// Size on disk, as PostgreSQL prints it.
    pub size: String,
}

impl Leftover {
    /// A template rather than a kept test database.
    pub fn is_template(&self) -> bool {
        self.comment.starts_with(TEMPLATE_MARK)
    }
}

/// Kept test databases (and templates), by name.
///
/// # Errors
/// The server's error.
pub async fn list(admin: &Client) -> Result<Vec<Leftover>, tokio_postgres::Error> {
    let rows = admin
        .query(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database \
             WHERE shobj_description(oid, 'pg_database') LIKE $1 || '%' \
                OR shobj_description(oid, 'pg_database') LIKE $2 || '%' \
             ORDER BY datname",
            &[&MARK, &TEMPLATE_MARK],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.get(0);
        // Another run may drop it meanwhile: then its size is unknown.
        let size = admin
            .query_one("SELECT pg_size_pretty(pg_database_size($1))", &[&name])
            .await
            .map_or_else(|_| "?".to_string(), |r| r.get(0));
        out.push(Leftover {
            name,
            comment: row.get(1),
            size,
        });
    }
    Ok(out)
}

/// Drops the kept databases of every run but this one; returns the names of
/// those it dropped. One that cannot be dropped now (another run is dropping
/// it too, or someone is connected to it on PostgreSQL 12) is left for later.
///
/// # Errors
/// The server's error when listing them.
pub async fn drop_earlier_runs(admin: &Client) -> Result<Vec<String>, tokio_postgres::Error> {
    let this_run = format!("; run {}; ", run_id());
    let mut dropped = Vec::new();
    for leftover in list(admin).await? {
        if leftover.is_template() || leftover.comment.contains(&this_run) {
            continue;
        }
        if mantis_migrate::scratch::drop_database(admin, &leftover.name)
            .await
            .is_ok()
        {
            dropped.push(leftover.name);
        }
    }
    Ok(dropped)
}
