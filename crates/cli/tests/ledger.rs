#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! `mantis ledger archive` and `unarchive` on a seeded database with a year
//! of movements: the books balance on the hot table alone, history reads the
//! full story across both tables, an archived idempotency key still counts,
//! nothing moves twice, 005's down refuses while movements are archived, and
//! unarchive puts back every movement exactly as it was.

mod common;

use common::{count, run, scalar, small_spec};
use mantis_testkit::TestDb;

/// Every movement, hot and archived, as text: id, seq, quantity, value,
/// cost, time, key and metadata. Carried balances are not movements.
const ALL_MOVEMENTS: &str = "
    SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', id, seq, quantity, value_delta, cost_price,
                             created_at, idempotency_key, metadata), E'\\n' ORDER BY id)
    FROM (SELECT id, seq, quantity, value_delta, cost_price, created_at, idempotency_key, metadata
          FROM core.stock_movement WHERE reference_number IS DISTINCT FROM 'CARRIED-BALANCE'
          UNION ALL
          SELECT id, seq, quantity, value_delta, cost_price, created_at, idempotency_key, metadata
          FROM core.stock_movement_archive WHERE reference_number IS DISTINCT FROM 'CARRIED-BALANCE') m";

const STOCK: &str = "
    SELECT string_agg(format('%s|%s|%s|%s', id, quantity, cost_price, total_value), E'\\n' ORDER BY id)
    FROM core.stock_on_hand";

/// Movements of the past year on one product, through the row trigger with
/// their real dates: receipts, shipments, a transfer, a keyed line.
const OLD_MOVEMENTS: &str = "
    DO $$
    DECLARE
        p uuid := (SELECT id FROM core.products WHERE sku = 'SKU-0000001');
        a uuid := (SELECT id FROM core.warehouses ORDER BY code LIMIT 1);
        b uuid := (SELECT id FROM core.warehouses ORDER BY code OFFSET 1 LIMIT 1);
        r uuid := gen_random_uuid();
    BEGIN
        FOR month IN 1..10 LOOP
            INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price, created_at)
            VALUES (p, a, 'RECEIPT', 10, 3 + month, make_timestamptz(2025, month, 3, 12, 0, 0, 'UTC'));
            INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, created_at)
            VALUES (p, a, 'SHIPMENT', -4, make_timestamptz(2025, month, 20, 12, 0, 0, 'UTC'));
        END LOOP;
        INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, reference_type, reference_id, created_at)
        VALUES (p, a, 'TRANSFER', -5, 'TRANSFER_ORDER', r, '2025-02-10 12:00Z'),
               (p, b, 'TRANSFER', 5, 'TRANSFER_ORDER', r, '2025-02-10 12:00Z');
        INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price,
                                         reference_type, reference_number, idempotency_key, created_at)
        VALUES (p, b, 'RECEIPT', 2, 9, 'PURCHASE_ORDER', 'PO-OLD', 'receipt:PO-OLD:1', '2025-03-01 12:00Z');
    END
    $$";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_then_history_then_unarchive_returns_every_movement() {
    let db = TestDb::seeded("ledger_archive_round_trip", &small_spec(), 6).await;
    let client = db.client().await;
    client.batch_execute(OLD_MOVEMENTS).await.unwrap();
    let (movements, stock) = (scalar(&db, ALL_MOVEMENTS).await, scalar(&db, STOCK).await);
    let hot = count(&db, "core.stock_movement").await;
    let history = run(
        &db,
        &[
            "--format",
            "json",
            "stock",
            "history",
            "--sku",
            "SKU-0000001",
            "--limit",
            "1000",
        ],
    )
    .expect_code(0)
    .json();

    // A long transaction holds the stock row of the unkeyed old movements:
    // the archive does not wait for it (it changes no stock row).
    let holder = db.client().await;
    holder
        .batch_execute(
            "BEGIN; SELECT 1 FROM core.stock_on_hand s JOIN core.products p ON p.id = s.product_id
             WHERE p.sku = 'SKU-0000001' AND s.warehouse_id = (SELECT id FROM core.warehouses ORDER BY code LIMIT 1)
             FOR UPDATE OF s",
        )
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let out = run(
        &db,
        &[
            "--format",
            "json",
            "ledger",
            "archive",
            "--before",
            "2025-06-01",
            "--batch",
            "7",
        ],
    )
    .expect_code(0)
    .json();
    // SKU-0000001: 5 months x 2 in warehouse a, the transfer's sending side
    // too; the receiving side and the keyed receipt in b.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the archive waited on a stock row lock"
    );
    assert_eq!(out["retries"], 0, "{out}");
    holder.batch_execute("ROLLBACK").await.unwrap();
    let moved = out["movements"].as_u64().unwrap();
    assert_eq!(moved, 13, "{out}");
    assert_eq!(out["carried"], 2, "{out}");
    assert_eq!(out["stock_rows"], 2, "{out}");
    assert_eq!(count(&db, "core.stock_movement_archive").await, 13);
    assert_eq!(count(&db, "core.stock_movement").await, hot - 13 + 2);
    assert_eq!(scalar(&db, STOCK).await, stock, "stock rows are untouched");
    assert_eq!(
        scalar(&db, ALL_MOVEMENTS).await,
        movements,
        "hot and archive together hold every movement as it was"
    );
    run(&db, &["verify"]).expect_code(0);

    // History spans both tables: the same story, the old part marked archived.
    let after = run(
        &db,
        &[
            "--format",
            "json",
            "stock",
            "history",
            "--sku",
            "SKU-0000001",
            "--limit",
            "1000",
        ],
    )
    .expect_code(0)
    .json();
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        for e in v.as_array_mut().unwrap() {
            e.as_object_mut().unwrap().remove("archived");
        }
        v
    };
    assert_eq!(strip(&after), strip(&history));
    let archived = after
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["archived"] == true)
        .count();
    assert_eq!(archived, 13);

    // Nothing moves twice.
    let again = run(
        &db,
        &[
            "--format",
            "json",
            "ledger",
            "archive",
            "--before",
            "2025-06-01",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(again["movements"], 0, "{again}");

    // An archived key still counts: the same line is skipped, through the
    // row trigger and through a batch; another line under it is refused.
    let warehouse_b = scalar(
        &db,
        "SELECT code FROM core.warehouses ORDER BY code OFFSET 1 LIMIT 1",
    )
    .await;
    let replay_b = run(
        &db,
        &[
            "stock",
            "receive",
            "--sku",
            "SKU-0000001",
            "--warehouse",
            &warehouse_b,
            "--quantity",
            "2",
            "--unit-cost",
            "9",
            "--reference",
            "PO-OLD",
            "--line",
            "1",
        ],
    )
    .expect_code(0);
    assert!(replay_b.stdout.contains("skipped"), "{}", replay_b.stdout);
    let refused = client
        .batch_execute(
            "INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price, idempotency_key)
             SELECT p.id, w.id, 'RECEIPT', 3, 9, 'receipt:PO-OLD:1' FROM core.products p, core.warehouses w
             WHERE p.sku = 'SKU-0000002' AND w.code = (SELECT code FROM core.warehouses ORDER BY code LIMIT 1)",
        )
        .await
        .unwrap_err();
    assert!(
        refused
            .as_db_error()
            .unwrap()
            .message()
            .contains("archived"),
        "{refused:?}"
    );

    // 005's down refuses while movements are archived and changes nothing
    // (006, above it, goes down first: it holds no data).
    let down = run(&db, &["down", "--to", "4"]);
    assert_ne!(down.code, 0, "{}", down.stdout);
    assert!(
        down.stderr.contains("mantis ledger unarchive"),
        "{}",
        down.stderr
    );
    assert_eq!(count(&db, "core.stock_movement_archive").await, 13);

    let back = run(
        &db,
        &["--format", "json", "ledger", "unarchive", "--batch", "3"],
    )
    .expect_code(0)
    .json();
    assert_eq!(back["movements"], 13, "{back}");
    assert_eq!(back["carried"], 2, "{back}");
    assert_eq!(count(&db, "core.stock_movement_archive").await, 0);
    assert_eq!(count(&db, "core.stock_movement").await, hot);
    run(&db, &["verify"]).expect_code(0);
    assert_eq!(
        scalar(&db, ALL_MOVEMENTS).await,
        movements,
        "every movement is back as it was"
    );
    run(&db, &["down", "--to", "4"]).expect_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_refuses_a_cut_in_the_future_and_names_the_fix() {
    let db = TestDb::seeded("ledger_archive_future", &small_spec(), 6).await;
    let out = run(&db, &["ledger", "archive", "--before", "2999-01-01"]);
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("after today"), "{}", out.stderr);
    assert_eq!(count(&db, "core.stock_movement_archive").await, 0);
}
