#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! `mantis maintain` on a seeded database: statistics refreshed, an INVALID
//! index rebuilt concurrently, growth and the audit reported (brands spelled
//! two ways, with a merge that works), and a table whose lock is held by
//! another session skipped within the lock timeout instead of queued.

mod common;

use common::{run, scalar, small_spec};
use mantis_testkit::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintain_analyzes_rebuilds_invalid_indexes_and_audits() {
    let db = TestDb::seeded("maintain_all", &small_spec(), 5).await;
    let client = db.client().await;
    // A concurrent build that failed: the index stays, INVALID.
    client
        .batch_execute("UPDATE core.products SET min_stock_level = 0 WHERE sku = 'SKU-0000001'")
        .await
        .unwrap();
    client
        .batch_execute(
            "CREATE INDEX CONCURRENTLY maintain_probe ON core.products ((1 / min_stock_level))",
        )
        .await
        .unwrap_err();
    client
        .batch_execute(
            "UPDATE core.products SET min_stock_level = 1 WHERE min_stock_level = 0;
             INSERT INTO core.brand (name, code) VALUES ('Zephyr', 'ZEPHYR'), ('Zéphyr Tools (Pty) Ltd', 'ZEPHYR_TOOLS');
             UPDATE core.products SET brand_id = (SELECT id FROM core.brand WHERE code = 'ZEPHYR')
             WHERE sku IN ('SKU-0000002', 'SKU-0000003');",
        )
        .await
        .unwrap();
    let valid =
        "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'core.maintain_probe'::regclass";
    assert_eq!(scalar(&db, valid).await, "false");

    let out = run(&db, &["--format", "json", "maintain"])
        .expect_code(0)
        .json();
    let analyzed = out["analyzed"].as_array().unwrap();
    assert!(analyzed.len() >= 12, "{out}");
    assert!(analyzed.iter().all(|s| s["skipped"].is_null()), "{out}");
    // The statistics system shows an ANALYZE within about a second.
    let never = "SELECT count(*) FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                 WHERE s.schemaname = 'core' AND c.relkind = 'r' AND s.last_analyze IS NULL";
    let mut left = scalar(&db, never).await;
    for _ in 0..50 {
        if left == "0" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        left = scalar(&db, never).await;
    }
    assert_eq!(left, "0", "every core table analyzed");
    let fixes = out["invalid_indexes"].as_array().unwrap();
    assert_eq!(fixes.len(), 1, "{out}");
    assert_eq!(fixes[0]["index"], "core.maintain_probe");
    assert_eq!(fixes[0]["outcome"], "rebuilt", "{out}");
    assert_eq!(scalar(&db, valid).await, "true");
    let tables: Vec<&str> = out["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    assert!(
        tables.contains(&"core.stock_movement") && tables.contains(&"core.stock_movement_archive")
    );
    let months = out["movements_per_month"].as_array().unwrap();
    let counted: i64 = months.iter().map(|m| m["hot"].as_i64().unwrap()).sum();
    let recent = scalar(
        &db,
        "SELECT count(*) FROM core.stock_movement WHERE created_at >= date_trunc('month', now()) - interval '23 months'",
    )
    .await;
    assert_eq!(counted.to_string(), recent);

    let audit = &out["audit"];
    let zephyr = audit["brands_alike"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["brands"][0]["code"] == "ZEPHYR")
        .unwrap_or_else(|| panic!("Zephyr / Zéphyr Tools (Pty) Ltd not found: {audit}"));
    assert_eq!(zephyr["merge"][0], "mantis brand merge ZEPHYR_TOOLS ZEPHYR");
    assert_eq!(
        audit["products_without_brand"]
            .as_i64()
            .unwrap()
            .to_string(),
        scalar(
            &db,
            "SELECT count(*) FROM core.products WHERE brand_id IS NULL AND is_active"
        )
        .await
    );

    // The suggested merge works, and the pair is gone from the next audit.
    run(&db, &["brand", "merge", "ZEPHYR_TOOLS", "ZEPHYR"]).expect_code(0);
    let again = run(&db, &["--format", "json", "maintain", "--only", "audit"])
        .expect_code(0)
        .json();
    assert!(
        again["analyzed"].as_array().unwrap().is_empty(),
        "--only audit"
    );
    assert!(
        !again["audit"]["brands_alike"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["brands"][0]["code"] == "ZEPHYR"),
        "{again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_locked_by_another_session_is_skipped_not_waited_on() {
    let db = TestDb::seeded("maintain_locked", &small_spec(), 5).await;
    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE core.brand IN SHARE UPDATE EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let out = run(
        &db,
        &[
            "--format",
            "json",
            "maintain",
            "--only",
            "analyze",
            "--lock-timeout",
            "100ms",
        ],
    )
    .expect_code(0)
    .json();
    let brand = out["analyzed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["object"] == "core.brand")
        .unwrap();
    assert!(
        brand["skipped"].as_str().unwrap().contains("lock timeout"),
        "{out}"
    );
    assert!(brand["took"].as_u64().unwrap() < 1000, "{out}");
    let others = out["analyzed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["skipped"].is_null())
        .count();
    assert!(others >= 11, "the other tables are analyzed: {out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    holder.batch_execute("ROLLBACK").await.unwrap();
}

/// Core tables held in ACCESS EXCLUSIVE mode (a DBA's ALTER, a VACUUM
/// FULL): every part of maintain reports them and does the rest, whatever
/// `--only` says; nothing fails and nothing waits past the lock timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exclusively_locked_table_is_reported_and_the_rest_done() {
    let db = TestDb::seeded("maintain_exclusive", &small_spec(), 5).await;
    let holder = db.client().await;
    holder
        .batch_execute(
            "BEGIN; LOCK TABLE core.stock_movement, core.stock_on_hand IN ACCESS EXCLUSIVE MODE",
        )
        .await
        .unwrap();
    for only in [
        "analyze",
        "indexes",
        "growth",
        "audit",
        "analyze,indexes,growth,audit",
    ] {
        let started = std::time::Instant::now();
        let out = run(
            &db,
            &[
                "--format",
                "json",
                "maintain",
                "--only",
                only,
                "--lock-timeout",
                "100ms",
            ],
        )
        .expect_code(0)
        .json();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{only}: took {:?}",
            started.elapsed()
        );
        if only.contains("analyze") {
            let skipped = out["analyzed"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| !s["skipped"].is_null())
                .count();
            assert_eq!(skipped, 2, "{only}: {out}");
        }
        if only.contains("growth") {
            let tables = out["tables"].as_array().unwrap();
            let movement = tables
                .iter()
                .find(|t| t["table"] == "core.stock_movement")
                .unwrap();
            assert!(
                movement["estimated"]
                    .as_str()
                    .unwrap()
                    .contains("lock timeout"),
                "{only}: {out}"
            );
            let products = tables
                .iter()
                .find(|t| t["table"] == "core.products")
                .unwrap();
            assert!(products["estimated"].is_null(), "{only}: {out}");
            assert!(
                products["index_bytes"].as_i64().unwrap() > 0,
                "{only}: {out}"
            );
        }
        if only.contains("audit") || only.contains("growth") {
            let skipped: Vec<&str> = out["skipped"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["object"].as_str().unwrap())
                .collect();
            assert!(
                (!only.contains("audit") || skipped.contains(&"audit"))
                    && (!only.contains("growth") || skipped.contains(&"movements per month")),
                "{only}: {out}"
            );
        }
    }
    holder.batch_execute("ROLLBACK").await.unwrap();
}
