#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! Migration 004 (the ledger's rules) on seeded data: it makes the books
//! exact whatever 003 left behind, and a down and up again lose nothing.

use mantis_migrate::{ignore_events, verify, Direction, Migrator, RunOptions, Target};
use mantis_testkit::{table_digests, Spec, TestDb};

fn migrator() -> Migrator {
    Migrator::new(
        mantis_schema::migrations().unwrap(),
        RunOptions::default(),
        ignore_events(),
    )
}

fn spec() -> Spec {
    Spec {
        products: 300,
        ..Spec::default()
    }
}

/// The tables whose data 004 owns or changes.
const LEDGER: &[&str] = &[
    "core.stock_movement",
    "core.stock_on_hand",
    "core.warehouses",
];

async fn passes_004(db: &TestDb) {
    let suite = mantis_schema::migrations()
        .unwrap()
        .get(4)
        .unwrap()
        .verify_suite()
        .unwrap();
    let report = verify::run(
        &db.client().await,
        &suite,
        &verify::VerifyOptions::default(),
    )
    .await
    .unwrap();
    let failed: Vec<String> = report
        .failures()
        .chain(report.warnings())
        .map(|r| r.describe())
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_004_makes_the_books_exact_whatever_003_left() {
    let db = TestDb::seeded("ledger_004_trueup", &spec(), 3).await;
    let client = db.client().await;
    // Under 003: receipts that round the average, and legacy code writing
    // quantities straight into stock_on_hand (not recorded by 003).
    client
        .batch_execute(
            "INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price)
             SELECT product_id, warehouse_id, 'RECEIPT', 3, 1.000001 FROM core.stock_on_hand
             WHERE quantity > 0 AND cost_price IS NOT NULL ORDER BY id LIMIT 25;
             UPDATE core.stock_on_hand SET quantity = quantity + 2
             WHERE id IN (SELECT id FROM core.stock_on_hand ORDER BY id DESC LIMIT 7);",
        )
        .await
        .unwrap();
    let session = db.session().await;
    migrator()
        .run(&session, Direction::Up, Target::Default)
        .await
        .unwrap();
    passes_004(&db).await;
    let trued_up: i64 = client
        .query_one(
            "SELECT count(*) FROM core.stock_movement WHERE reference_number = 'LEDGER-TRUE-UP-004'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        trued_up, 7,
        "one adjustment per stock row written outside the ledger"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_and_up_again_keep_every_ledger_value() {
    let db = TestDb::seeded("ledger_004_roundtrip", &spec(), 4).await;
    let client = db.client().await;
    client
        .batch_execute(
            "UPDATE core.warehouses SET allow_negative_stock = true WHERE code = (SELECT min(code) FROM core.warehouses);
             INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price, idempotency_key)
             SELECT product_id, warehouse_id, 'RECEIPT', 4, 2.5, 'PO-1:' || row_number() OVER (ORDER BY id)
             FROM core.stock_on_hand ORDER BY id LIMIT 10;
             INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity)
             SELECT product_id, warehouse_id, 'SHIPMENT', -1 FROM core.stock_on_hand
             WHERE quantity >= 1 ORDER BY id LIMIT 10;",
        )
        .await
        .unwrap();
    let before = table_digests(&client, LEDGER).await;
    let session = db.session().await;
    migrator()
        .run(&session, Direction::Down, Target::Version(3))
        .await
        .unwrap();
    let saved: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'mantis\\_backup\\_004\\_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(saved, 1, "004's down saves the ledger columns");
    migrator()
        .run(&session, Direction::Up, Target::Default)
        .await
        .unwrap();
    assert_eq!(
        table_digests(&client, LEDGER).await,
        before,
        "down and up again must give back identical data"
    );
    passes_004(&db).await;
}
