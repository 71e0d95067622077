//! mantis-datagen: deterministic, realistic MantisNXT data at any scale.
//!
//! [`seed`] loads a database at migration 001 (the state the seed's migration
//! 003 was written against) in one transaction with `COPY`, streaming rows so
//! memory stays flat up to a million products. The same [`Spec`] always gives
//! the same rows, ids included. The data carries the dirt real catalogues have
//! (see [`catalog`]): brand spelling variants, brand names whose codes
//! collide, non-Latin brand names, invalid contact values in supplier
//! metadata, dangling legacy brand ids, products without a brand, prices in
//! another currency or missing, and zero quantities.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod catalog;
mod copy;
mod error;
mod keys;
pub mod rows;
mod sql;

use mantis_migrate::transaction::transaction;
use tokio_postgres::Client;

pub use error::SeedError;

use copy::CopyWriter;
use rows::Kind;

/// The largest `--products` supported.
pub const MAX_PRODUCTS: u64 = 1_000_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Random seed: the same spec always gives the same data.
    pub seed: u64,
    /// Number of products.
    pub products: u64,
    /// Number of warehouses (1 to 5).
    pub warehouses: usize,
}

impl Default for Spec {
    /// The seed's own scale: 22 suppliers, 4 warehouses, 5,000 products.
    fn default() -> Self {
        Spec {
            seed: 20251008,
            products: 5_000,
            warehouses: 4,
        }
    }
}

/// Progress of a running seed, in products processed over all passes.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// The table being loaded.
    pub table: &'static str,
    /// Work done so far.
    pub done: u64,
    /// Work in all.
    pub total: u64,
}

/// Rows loaded per table, in load order.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Counts {
    /// `(table, rows)`.
    pub tables: Vec<(&'static str, u64)>,
}

impl Counts {
    /// All rows loaded.
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }

    /// Rows loaded into `table`, if it was loaded.
    pub fn get(&self, table: &str) -> Option<u64> {
        self.tables
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, n)| *n)
    }
}

/// The tables seed loads (all empty before it starts).
const LOADED: &[&str] = &[
    "core.users",
    "core.suppliers",
    "core.categories",
    "core.warehouses",
    "core.products",
    "core.supplier_products",
    "core.stock_on_hand",
];

/// Passes over the product list: products, supplier prices, stock.
const PRODUCT_PASSES: u64 = 3;
/// Products between two progress reports.
const REPORT_EVERY: u64 = 2_000;

/// Loads `spec` into the database `client` is connected to, in one transaction.
///
/// # Errors
/// [`SeedError::NoSchema`], [`SeedError::AfterMigration003`] and
/// [`SeedError::NotEmpty`] before anything is written; [`SeedError::Database`]
/// when a statement fails, after which nothing has been loaded.
pub async fn seed(
    client: &Client,
    spec: &Spec,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Counts, SeedError> {
    check_spec(spec)?;
    check_target(client).await?;
    transaction(client, load(client, spec, progress), |e| {
        SeedError::copy("(begin or commit)")(e)
    })
    .await
}

fn check_spec(spec: &Spec) -> Result<(), SeedError> {
    if spec.products == 0 || spec.products > MAX_PRODUCTS {
        return Err(SeedError::Scale {
            got: spec.products,
            max: MAX_PRODUCTS,
        });
    }
    if spec.warehouses == 0 || spec.warehouses > catalog::WAREHOUSES.len() {
        return Err(SeedError::Warehouses {
            got: spec.warehouses,
            max: catalog::WAREHOUSES.len(),
        });
    }
    Ok(())
}

async fn check_target(client: &Client) -> Result<(), SeedError> {
    let (has_core, has_003): (bool, bool) = client
        .query_one(sql::TARGET_STATE, &[])
        .await
        .and_then(|row| Ok((row.try_get("has_core")?, row.try_get("has_003")?)))
        .map_err(SeedError::copy("(checking the target)"))?;
    if !has_core {
        return Err(SeedError::NoSchema);
    }
    if has_003 {
        return Err(SeedError::AfterMigration003);
    }
    let products: i64 = client
        .query_one(sql::PRODUCT_COUNT, &[])
        .await
        .and_then(|row| row.try_get("products"))
        .map_err(SeedError::copy("(checking the target)"))?;
    if products > 0 {
        return Err(SeedError::NotEmpty { products });
    }
    Ok(())
}

async fn load(
    client: &Client,
    spec: &Spec,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Counts, SeedError> {
    let dropped = keys::drop_keys(client, LOADED).await?;
    let mut counts = Counts::default();
    counts
        .tables
        .push(("core.users", users(client, spec).await?));
    counts
        .tables
        .push(("core.suppliers", suppliers(client, spec).await?));
    counts
        .tables
        .push(("core.categories", categories(client, spec).await?));
    counts
        .tables
        .push(("core.warehouses", warehouses(client, spec).await?));
    let total = spec.products * PRODUCT_PASSES;
    let report = |table, pass: u64, done: u64| {
        progress(Progress {
            table,
            done: pass * spec.products + done,
            total,
        });
    };
    counts
        .tables
        .push(("core.products", products(client, spec, &report).await?));
    counts.tables.push((
        "core.supplier_products",
        supplier_products(client, spec, &report).await?,
    ));
    counts
        .tables
        .push(("core.stock_on_hand", stock(client, spec, &report).await?));
    keys::add_keys(client, &dropped).await?;
    client
        .batch_execute(sql::ANALYZE)
        .await
        .map_err(SeedError::copy("(analyze)"))?;
    Ok(counts)
}

type Report<'a> = dyn Fn(&'static str, u64, u64) + Sync + 'a;

async fn users(client: &Client, spec: &Spec) -> Result<u64, SeedError> {
    let mut copy =
        CopyWriter::start(client, "core.users", &["id", "email", "display_name"]).await?;
    for (i, (email, name)) in [
        ("admin@mantisnxt.example", "Administrator"),
        ("buyer@mantisnxt.example", "Head Buyer"),
        ("warehouse@mantisnxt.example", "Warehouse Lead"),
        ("finance@mantisnxt.example", "Finance"),
        ("sync@mantisnxt.example", "Integration User"),
    ]
    .into_iter()
    .enumerate()
    {
        copy.plain(rows::id(spec.seed, Kind::User, i as u64))
            .text(email)
            .text(name);
        copy.end_row().await?;
    }
    copy.finish().await
}

async fn suppliers(client: &Client, spec: &Spec) -> Result<u64, SeedError> {
    let mut copy = CopyWriter::start(
        client,
        "core.suppliers",
        &["id", "name", "description", "is_active", "metadata"],
    )
    .await?;
    for (i, supplier) in catalog::SUPPLIERS.iter().enumerate() {
        copy.plain(rows::id(spec.seed, Kind::Supplier, i as u64))
            .text(supplier.name)
            .text("Imported from the legacy supplier list")
            .plain(supplier.active)
            .text(&rows::supplier_metadata(supplier).to_string());
        copy.end_row().await?;
    }
    copy.finish().await
}

async fn categories(client: &Client, spec: &Spec) -> Result<u64, SeedError> {
    let mut copy =
        CopyWriter::start(client, "core.categories", &["id", "name", "parent_id"]).await?;
    let parents = catalog::CATEGORIES.len() as u64;
    let mut child = parents;
    for (p, (parent, children)) in catalog::CATEGORIES.iter().enumerate() {
        let parent_id = rows::id(spec.seed, Kind::Category, p as u64);
        copy.plain(parent_id).text(parent).null();
        copy.end_row().await?;
        for name in *children {
            copy.plain(rows::id(spec.seed, Kind::Category, child))
                .text(name)
                .plain(parent_id);
            copy.end_row().await?;
            child += 1;
        }
    }
    copy.finish().await
}

/// Every category, parents and children, in id order.
fn category_count() -> usize {
    catalog::CATEGORIES.len()
        + catalog::CATEGORIES
            .iter()
            .map(|(_, c)| c.len())
            .sum::<usize>()
}

async fn warehouses(client: &Client, spec: &Spec) -> Result<u64, SeedError> {
    let mut copy = CopyWriter::start(client, "core.warehouses", &["id", "code", "name"]).await?;
    for (i, (code, name)) in catalog::WAREHOUSES.iter().take(spec.warehouses).enumerate() {
        copy.plain(rows::id(spec.seed, Kind::Warehouse, i as u64))
            .text(code)
            .text(name);
        copy.end_row().await?;
    }
    copy.finish().await
}

async fn products(client: &Client, spec: &Spec, report: &Report<'_>) -> Result<u64, SeedError> {
    let mut copy = CopyWriter::start(
        client,
        "core.products",
        &[
            "id",
            "sku",
            "name",
            "description",
            "category_id",
            "brand_from_supplier",
            "brand_id",
            "unit_of_measure",
            "min_stock_level",
            "max_stock_level",
            "is_active",
        ],
    )
    .await?;
    let categories = category_count();
    for i in 0..spec.products {
        let p = rows::product(spec.seed, i, categories);
        copy.plain(p.id)
            .text(&p.sku)
            .text(&p.name)
            .text(&format!("{} for trade use", p.name))
            .plain(rows::id(spec.seed, Kind::Category, p.category as u64))
            .opt_text(p.brand_text.as_deref())
            .opt_plain(p.legacy_brand_id)
            .text(p.unit)
            .plain(p.min_stock)
            .opt_plain(p.max_stock)
            .plain(p.active);
        copy.end_row().await?;
        if i % REPORT_EVERY == 0 {
            report("core.products", 0, i);
        }
    }
    copy.finish().await
}

async fn supplier_products(
    client: &Client,
    spec: &Spec,
    report: &Report<'_>,
) -> Result<u64, SeedError> {
    let mut copy = CopyWriter::start(
        client,
        "core.supplier_products",
        &[
            "supplier_id",
            "product_id",
            "supplier_sku",
            "cost_price",
            "currency",
            "is_preferred",
        ],
    )
    .await?;
    let suppliers = catalog::SUPPLIERS.len();
    for i in 0..spec.products {
        let product = rows::id(spec.seed, Kind::Product, i);
        for price in rows::prices(spec.seed, i, suppliers) {
            copy.plain(rows::id(spec.seed, Kind::Supplier, price.supplier as u64))
                .plain(product)
                .text(&price.supplier_sku)
                .opt_plain(price.cost)
                .text(price.currency)
                .plain(price.preferred);
            copy.end_row().await?;
        }
        if i % REPORT_EVERY == 0 {
            report("core.supplier_products", 1, i);
        }
    }
    copy.finish().await
}

async fn stock(client: &Client, spec: &Spec, report: &Report<'_>) -> Result<u64, SeedError> {
    let mut copy = CopyWriter::start(
        client,
        "core.stock_on_hand",
        &["product_id", "warehouse_id", "quantity"],
    )
    .await?;
    let categories = category_count();
    for i in 0..spec.products {
        let product = rows::product(spec.seed, i, categories);
        for (w, quantity) in rows::stock(spec.seed, i, product.unit, spec.warehouses) {
            copy.plain(product.id)
                .plain(rows::id(spec.seed, Kind::Warehouse, w as u64))
                .plain(quantity);
            copy.end_row().await?;
        }
        if i % REPORT_EVERY == 0 {
            report("core.stock_on_hand", 2, i);
        }
    }
    let rows = copy.finish().await?;
    report("core.stock_on_hand", 3, 0);
    Ok(rows)
}
