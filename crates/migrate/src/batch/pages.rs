//! The page walk of an `order=physical` batched statement: batches of
//! adjacent pages, each row written where it lies, in the table's own order.

use tokio_postgres::Client;

use super::run::{after_batch, before_batch, run_batch, BatchError, Bounds, Mark, Ran, Walk};
use super::{BatchPass, BatchSpec};
use crate::error::Error;
use crate::history;
use crate::session::Session;
use crate::sql;

/// PostgreSQL 14 and later scan a range of ctids without reading the rest of
/// the table (TID Range Scan); on earlier servers a page range would be a
/// full scan per batch, so they walk keys only.
pub(super) fn supported(session: &Session) -> bool {
    session.server_version_num() >= 140_000
}

/// Runs the statement over the table's pages from the first (or from
/// `resume`: the next page and the page the walk ends before) to the last
/// page the table had when the walk began: versions written later, by this
/// walk or by anyone, are the key walk's to find.
pub(super) async fn walk(
    walk: &mut Walk<'_>,
    resume: Option<(i64, i64)>,
    rows_done: i64,
) -> Result<(), BatchError> {
    let client = walk.cx.session.client();
    let (mut page, end, mut done) = match resume {
        Some((page, end)) => (page, end, rows_done),
        None => (0, table_pages(client, walk.spec).await?, 0),
    };
    if let Some((first, last)) = key_bounds(client, walk.spec).await? {
        let density = (walk.total as f64 / end.max(1) as f64).max(1.0);
        while page < end {
            before_batch(walk).await?;
            let count = ((walk.pace.size as f64 / density).floor() as i64).max(1);
            let last_page = (page + count - 1).min(end - 1);
            let rows = ((last_page - page + 1) as f64 * density).round() as i64;
            let bounds = Bounds {
                first: first.clone(),
                last: last.clone(),
                pages: Some((format!("({page},0)"), format!("({last_page},65535)"))),
            };
            let mark = Mark::Pages {
                next: last_page + 1,
                end,
                rows,
            };
            let Ran::Done(took) = run_batch(walk, &bounds, &mark).await? else {
                continue;
            };
            done += rows;
            page = last_page + 1;
            after_batch(walk, BatchPass::Pages, done, rows, took).await;
        }
    }
    client
        .execute(
            sql::PAGES_DONE,
            &[&history::db_version(walk.cx.version), &end],
        )
        .await
        .map_err(Error::db("recording the end of the page walk"))?;
    Ok(())
}

async fn table_pages(client: &Client, spec: &BatchSpec) -> Result<i64, Error> {
    client
        .query_one(sql::TABLE_PAGES, &[&spec.quoted_table()])
        .await
        .and_then(|row| row.try_get("pages"))
        .map_err(Error::db("reading the table's size"))
}

/// The table's first and last key now (none when it is empty): the key
/// bounds of every batch of the page walk.
async fn key_bounds(client: &Client, spec: &BatchSpec) -> Result<Option<(String, String)>, Error> {
    let (table, key) = (spec.quoted_table(), spec.quoted_key());
    let end = |direction: &str| {
        format!(
            "SELECT {key}::text AS key FROM {table} WHERE {key} IS NOT NULL \
             ORDER BY {key} {direction} LIMIT 1"
        )
    };
    let key_at = |direction: &'static str, what: &'static str| {
        let query = end(direction);
        async move {
            client
                .query_opt(&query, &[])
                .await
                .and_then(|row| row.map(|r| r.try_get::<_, String>("key")).transpose())
                .map_err(Error::db(what))
        }
    };
    let first = key_at("ASC", "reading the first key").await?;
    let last = key_at("DESC", "reading the last key").await?;
    Ok(first.zip(last))
}
