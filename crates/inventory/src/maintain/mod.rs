//! `mantis maintain`: the seed's maintenance schedule as one command, safe to
//! run at any time on a busy database.
//!
//! - analyze: fresh planner statistics for the core tables (ANALYZE takes a
//!   lock that readers and writers do not wait on);
//! - indexes: INVALID indexes left by failed concurrent builds, dropped and
//!   rebuilt CONCURRENTLY (writers keep writing);
//! - growth: movements per month (hot and archived), table and index sizes,
//!   dead rows;
//! - audit: brands spelled several ways (with the merge to run), products
//!   without a brand, stock without a cost, contact issues, legacy brand ids
//!   that pointed nowhere, low stock, the stock value.
//!
//! Every statement that takes a lock runs under a lock timeout (100 ms by
//! default): one that would wait longer is skipped and reported, never left
//! queued where writers would wait behind it.

pub mod spelling;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

const TABLES: &str = include_str!("../../sql/maintain/tables.sql");
const TABLE_SIZE: &str = include_str!("../../sql/maintain/table_size.sql");
const INVALID_INDEXES: &str = include_str!("../../sql/maintain/invalid_indexes.sql");
const GROWTH: &str = include_str!("../../sql/maintain/growth.sql");
const BRANDS: &str = include_str!("../../sql/maintain/brands.sql");
const AUDIT: &str = include_str!("../../sql/maintain/audit.sql");

/// The longest a maintenance statement waits for a lock by default.
pub const LOCK_TIMEOUT: Duration = Duration::from_millis(100);

/// Months of movement counts the growth report shows.
const MONTHS: i32 = 24;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tasks {
    /// ANALYZE the core tables.
    pub analyze: bool,
    /// Report INVALID indexes, and rebuild them when `rebuild` is set.
    pub indexes: bool,
    /// Drop and rebuild INVALID indexes CONCURRENTLY.
    pub rebuild: bool,
    /// Movements per month, sizes, dead rows.
    pub growth: bool,
    /// The data-quality audit.
    pub audit: bool,
}

impl Tasks {
    /// Everything.
    pub const ALL: Tasks = Tasks {
        analyze: true,
        indexes: true,
        rebuild: true,
        growth: true,
        audit: true,
    };
}

/// One run's results.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Maintained {
    /// Tables analyzed (or skipped, with why).
    pub analyzed: Vec<Step>,
    /// INVALID indexes found, and what was done with each.
    pub invalid_indexes: Vec<IndexFix>,
    /// Sizes and dead rows of the core tables, largest first.
    pub tables: Vec<TableSize>,
    /// Movements per month, oldest first.
    pub movements_per_month: Vec<Month>,
    /// The data-quality audit.
    pub audit: Option<Audit>,
    /// Reports not made because a table they read was locked past the lock
    /// timeout (`movements per month`, `audit`), with why.
    pub skipped: Vec<Step>,
    /// Wall time.
    #[serde(serialize_with = "crate::duration::millis")]
    pub elapsed: Duration,
}

/// A statement run on one object.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The table or index.
    pub object: String,
    /// How long it took.
    #[serde(serialize_with = "crate::duration::millis")]
    pub took: Duration,
    /// Why it was not done (e.g. it would have waited for a lock).
    pub skipped: Option<String>,
}

/// An INVALID index and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct IndexFix {
    /// The index.
    pub index: String,
    /// Its table.
    pub table: String,
    /// Its definition.
    pub definition: String,
    /// Its size.
    pub bytes: i64,
    /// "rebuilt", "reported" or why the rebuild failed.
    pub outcome: String,
}

/// A table's size and dead rows.
#[derive(Debug, Clone, Serialize)]
pub struct TableSize {
    /// The table.
    pub table: String,
    /// Rows, as the planner estimates them.
    pub rows_estimate: i64,
    /// Table, indexes and TOAST.
    pub total_bytes: i64,
    /// The table alone.
    pub table_bytes: i64,
    /// Its indexes.
    pub index_bytes: i64,
    /// Dead rows not yet reclaimed by vacuum.
    pub dead_rows: i64,
    /// Last (auto)vacuum.
    pub last_vacuum: Option<DateTime<Utc>>,
    /// Last (auto)analyze.
    pub last_analyze: Option<DateTime<Utc>>,
    /// Why the sizes are the catalog's estimate (pages at the last vacuum
    /// or analyze; indexes unknown, 0) rather than exact: the table was
    /// locked past the lock timeout.
    pub estimated: Option<String>,
}

/// Movements created in one month.
#[derive(Debug, Clone, Serialize)]
pub struct Month {
    /// YYYY-MM.
    pub month: String,
    /// In core.stock_movement.
    pub hot: i64,
    /// In core.stock_movement_archive.
    pub archived: i64,
}

/// The data-quality audit.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// Brands that are probably one, with the merges to run.
    pub brands_alike: Vec<spelling::Alike>,
    /// Active products without a brand.
    pub products_without_brand: i64,
    /// Stock rows holding stock with no unit cost (valued at nothing).
    pub stock_without_cost: i64,
    /// Supplier contact values 003 could not validate.
    pub contact_issues: i64,
    /// Active suppliers with neither an email nor a phone.
    pub suppliers_without_contact: i64,
    /// Legacy brand ids that pointed to no brand (003's report table).
    pub dangling_legacy_brand_ids: i64,
    /// Stock rows below their product's reorder level.
    pub low_stock_rows: i64,
    /// Value of all stock.
    pub stock_value: Decimal,
}

/// Runs `tasks` once.
///
/// # Errors
/// The driver error of a statement that is not a lock timeout (those are
/// reported as skipped).
pub async fn run(
    client: &Client,
    tasks: Tasks,
    lock_timeout: Duration,
) -> Result<Maintained, tokio_postgres::Error> {
    let started = Instant::now();
    client
        .batch_execute(&format!(
            "SET lock_timeout = '{}ms'",
            lock_timeout.as_millis().max(1)
        ))
        .await?;
    let mut done = Maintained::default();
    let tables = table_sizes(client).await?;
    if tasks.analyze {
        done.analyzed = analyze(client, &tables).await?;
    }
    if tasks.indexes {
        done.invalid_indexes = invalid_indexes(client, tasks.rebuild).await?;
    }
    if tasks.growth {
        done.tables = if tasks.analyze {
            table_sizes(client).await?
        } else {
            tables
        };
        measure(client, &mut done.tables).await?;
        match skipped_on_lock(months(client).await)? {
            Ok(months) => done.movements_per_month = months,
            Err(why) => done.skipped.push(skipped("movements per month", why)),
        }
    }
    if tasks.audit {
        match skipped_on_lock(audit(client).await)? {
            Ok(audit) => done.audit = Some(audit),
            Err(why) => done.skipped.push(skipped("audit", why)),
        }
    }
    client.batch_execute("RESET lock_timeout").await?;
    done.elapsed = started.elapsed();
    Ok(done)
}

/// The core tables from the catalog alone (no lock), sizes estimated.
async fn table_sizes(client: &Client) -> Result<Vec<TableSize>, tokio_postgres::Error> {
    client
        .query(TABLES, &[])
        .await?
        .iter()
        .map(|r| {
            let table_bytes = r.try_get("table_bytes")?;
            Ok(TableSize {
                table: r.try_get("table")?,
                rows_estimate: r.try_get("rows_estimate")?,
                total_bytes: table_bytes,
                table_bytes,
                index_bytes: 0,
                dead_rows: r.try_get("dead_rows")?,
                last_vacuum: r.try_get("last_vacuum")?,
                last_analyze: r.try_get("last_analyze")?,
                estimated: None,
            })
        })
        .collect()
}

/// Each table's exact sizes, under the lock timeout; a locked table keeps
/// its estimate and says why. Largest first.
async fn measure(client: &Client, tables: &mut [TableSize]) -> Result<(), tokio_postgres::Error> {
    for t in tables.iter_mut() {
        match skipped_on_lock(client.query_one(TABLE_SIZE, &[&t.table]).await)? {
            Ok(r) => {
                t.total_bytes = r.try_get("total_bytes")?;
                t.table_bytes = r.try_get("table_bytes")?;
                t.index_bytes = r.try_get("index_bytes")?;
            }
            Err(why) => t.estimated = Some(why),
        }
    }
    tables.sort_by(|a, b| {
        b.total_bytes
            .cmp(&a.total_bytes)
            .then(a.table.cmp(&b.table))
    });
    Ok(())
}

fn skipped(object: &str, why: String) -> Step {
    Step {
        object: object.to_string(),
        took: Duration::ZERO,
        skipped: Some(why),
    }
}

/// ANALYZE each table; one whose lock is not granted in time is skipped.
async fn analyze(
    client: &Client,
    tables: &[TableSize],
) -> Result<Vec<Step>, tokio_postgres::Error> {
    let mut steps = Vec::with_capacity(tables.len());
    for t in tables {
        let took = Instant::now();
        let skipped =
            skipped_on_lock(client.batch_execute(&format!("ANALYZE {}", t.table)).await)?.err();
        steps.push(Step {
            object: t.table.clone(),
            took: took.elapsed(),
            skipped,
        });
    }
    Ok(steps)
}

/// The INVALID indexes, each dropped and rebuilt CONCURRENTLY when asked.
async fn invalid_indexes(
    client: &Client,
    rebuild: bool,
) -> Result<Vec<IndexFix>, tokio_postgres::Error> {
    let mut fixes = Vec::new();
    for r in client.query(INVALID_INDEXES, &[]).await? {
        let mut fix = IndexFix {
            index: r.try_get("index")?,
            table: r.try_get("table")?,
            definition: r.try_get("definition")?,
            bytes: r.try_get("bytes")?,
            outcome: "reported".into(),
        };
        if rebuild {
            fix.outcome = rebuilt(client, &fix).await;
        }
        fixes.push(fix);
    }
    Ok(fixes)
}

/// DROP INDEX CONCURRENTLY, then its definition CONCURRENTLY; what happened.
async fn rebuilt(client: &Client, fix: &IndexFix) -> String {
    let create = concurrently(&fix.definition);
    let drop = format!("DROP INDEX CONCURRENTLY IF EXISTS {}", fix.index);
    for (what, sql) in [("drop", drop.as_str()), ("rebuild", create.as_str())] {
        if let Err(e) = client.batch_execute(sql).await {
            let reason = e
                .as_db_error()
                .map_or(e.to_string(), |d| d.message().to_string());
            return format!("{what} failed: {reason}; run `mantis maintain` again, or by hand: {drop}; {create}");
        }
    }
    "rebuilt".into()
}

/// `CREATE [UNIQUE] INDEX name ON …` as `CREATE [UNIQUE] INDEX CONCURRENTLY name ON …`.
fn concurrently(definition: &str) -> String {
    for head in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = definition.strip_prefix(head) {
            return format!("{head}CONCURRENTLY {rest}");
        }
    }
    definition.to_string()
}

async fn months(client: &Client) -> Result<Vec<Month>, tokio_postgres::Error> {
    client
        .query(GROWTH, &[&MONTHS])
        .await?
        .iter()
        .map(|r| {
            Ok(Month {
                month: r.try_get("month")?,
                hot: r.try_get("hot")?,
                archived: r.try_get("archived")?,
            })
        })
        .collect()
}

async fn audit(client: &Client) -> Result<Audit, tokio_postgres::Error> {
    let brands: Vec<spelling::Brand> = client
        .query(BRANDS, &[])
        .await?
        .iter()
        .map(|r| {
            Ok(spelling::Brand {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                products: r.try_get("products")?,
            })
        })
        .collect::<Result<_, tokio_postgres::Error>>()?;
    let r = client.query_one(AUDIT, &[]).await?;
    Ok(Audit {
        brands_alike: spelling::alike(&brands),
        products_without_brand: r.try_get("products_without_brand")?,
        stock_without_cost: r.try_get("stock_without_cost")?,
        contact_issues: r.try_get("contact_issues")?,
        suppliers_without_contact: r.try_get("suppliers_without_contact")?,
        dangling_legacy_brand_ids: r.try_get("dangling_legacy_brand_ids")?,
        low_stock_rows: r.try_get("low_stock_rows")?,
        stock_value: r.try_get("stock_value")?,
    })
}

/// Ok(Err(why)) when a statement gave up waiting for a lock; other errors
/// are errors.
fn skipped_on_lock<T>(
    result: Result<T, tokio_postgres::Error>,
) -> Result<Result<T, String>, tokio_postgres::Error> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Ok(Err(
            "another session held a conflicting lock past the lock timeout; skipped (run again)"
                .into(),
        )),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::concurrently;

    #[test]
    fn a_definition_is_rebuilt_concurrently() {
        assert_eq!(
            concurrently("CREATE UNIQUE INDEX x ON core.t USING btree (a)"),
            "CREATE UNIQUE INDEX CONCURRENTLY x ON core.t USING btree (a)"
        );
        assert_eq!(
            concurrently("CREATE INDEX y ON core.t USING btree (b) WHERE (b > 0)"),
            "CREATE INDEX CONCURRENTLY y ON core.t USING btree (b) WHERE (b > 0)"
        );
    }
}
