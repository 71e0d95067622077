//! Shared by the inventory tests: a database at the newest migration with a
//! small catalogue, and readers of its books.
#![allow(dead_code)] // each test file uses a different part

use mantis_testkit::TestDb;
use rust_decimal::Decimal;
use tokio_postgres::Client;

/// Warehouses of the fixture; the last one allows negative stock.
pub const WAREHOUSES: [&str; 3] = ["JHB", "CPT", "NEG"];

/// A fresh database at the newest migration, with `products` products
/// (SKU-1…) and the fixture's warehouses.
pub async fn books(label: &str, products: u32) -> TestDb {
    let db = TestDb::at_version(label, latest()).await;
    let client = db.client().await;
    client
        .batch_execute(
            "INSERT INTO core.warehouses (code, name) VALUES ('JHB', 'Johannesburg'), ('CPT', 'Cape Town');
             INSERT INTO core.warehouses (code, name, allow_negative_stock) VALUES ('NEG', 'Back orders', true);",
        )
        .await
        .unwrap_or_else(|e| panic!("fixture warehouses: {e}"));
    client
        .execute(
            "INSERT INTO core.products (sku, name, min_stock_level)
             SELECT 'SKU-' || i, 'Product ' || i, 5 FROM generate_series(1, $1::int) AS i",
            &[&i32::try_from(products).unwrap_or(i32::MAX)],
        )
        .await
        .unwrap_or_else(|e| panic!("fixture products: {e}"));
    db
}

/// The newest embedded migration.
pub fn latest() -> u64 {
    mantis_schema::migrations()
        .unwrap_or_else(|e| panic!("{e}"))
        .migrations()
        .last()
        .map(|m| m.version)
        .unwrap_or_default()
}

/// (quantity, cost, value) of a stock row, None when it does not exist.
pub async fn stock(
    client: &Client,
    sku: &str,
    warehouse: &str,
) -> Option<(Decimal, Option<Decimal>, Option<Decimal>)> {
    client
        .query_opt(
            "SELECT s.quantity, s.cost_price, s.total_value FROM core.stock_on_hand s
             JOIN core.products p ON p.id = s.product_id JOIN core.warehouses w ON w.id = s.warehouse_id
             WHERE p.sku = $1 AND w.code = $2",
            &[&sku, &warehouse],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|r| (r.get(0), r.get(1), r.get(2)))
}

/// Number of rows a query counts.
pub async fn count(client: &Client, from_where: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM {from_where}"), &[])
        .await
        .unwrap_or_else(|e| panic!("{from_where}: {e}"))
        .get(0)
}

/// Rows of the invariant queries that are wrong (each should return none):
/// quantity = Σ movements, value = Σ value_delta, zero quantity ⇒ zero value,
/// transfers balance.
pub async fn broken_invariants(client: &Client) -> Vec<String> {
    let checks = [
        ("quantity = sum of movements",
         "SELECT s.id::text FROM core.stock_on_hand s LEFT JOIN (SELECT product_id, warehouse_id, sum(quantity) q
          FROM core.stock_movement GROUP BY 1, 2) m USING (product_id, warehouse_id) WHERE s.quantity <> coalesce(m.q, 0)"),
        ("value = sum of value_delta",
         "SELECT s.id::text FROM core.stock_on_hand s LEFT JOIN (SELECT product_id, warehouse_id, sum(value_delta) v
          FROM core.stock_movement GROUP BY 1, 2) m USING (product_id, warehouse_id)
          WHERE coalesce(s.total_value, 0) <> coalesce(m.v, 0)"),
        ("zero quantity has zero value",
         "SELECT id::text FROM core.stock_on_hand WHERE quantity = 0 AND total_value <> 0"),
        ("transfers balance",
         "SELECT reference_id::text FROM core.stock_movement WHERE movement_type = 'TRANSFER'
          GROUP BY reference_id, product_id HAVING sum(quantity) <> 0 OR (bool_and(cost_price IS NOT NULL) AND sum(quantity * cost_price) <> 0)"),
    ];
    let mut broken = Vec::new();
    for (name, query) in checks {
        for row in client
            .query(query, &[])
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
        {
            broken.push(format!("{name}: {}", row.get::<_, String>(0)));
        }
    }
    broken
}
