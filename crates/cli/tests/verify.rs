#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! `mantis verify` and `mantis health`: they tell the truth, name what is
//! wrong, and change nothing.

mod common;

use common::{run, small_spec, SUCCESS_LINE};
use mantis_testkit::TestDb;

/// Every table and view 003 owns or changes, and the history.
fn watched() -> Vec<&'static str> {
    let mut tables = mantis_testkit::TABLES_OF_003.to_vec();
    tables.extend([
        "core.mv_inventory_valuation",
        "core.mv_product_stock_summary",
        "core.mv_low_stock_alerts",
        "mantis.schema_migrations",
    ]);
    tables
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_on_a_migrated_database_and_changes_nothing() {
    let db = TestDb::seeded("verify_ok", &small_spec(), 3).await;
    let client = db.client().await;
    let before = mantis_testkit::table_digests(&client, &watched()).await;
    let out = run(&db, &["verify"]).expect_code(0);
    assert!(
        out.stdout.trim_end().ends_with(SUCCESS_LINE),
        "{}",
        out.stdout
    );
    for section in [
        "1 Schema",
        "2 Constraints",
        "3 Indexes",
        "4 Triggers and functions",
        "5 Data coverage",
        "6 Orphaned records",
        "7 Materialized views",
        "8 Performance",
        "9 Constraint tests",
        "10 Trigger tests",
        "11 Summary",
    ] {
        assert!(
            out.stdout.contains(&format!("\n{section}\n")),
            "section {section} missing"
        );
    }
    assert_eq!(
        mantis_testkit::table_digests(&client, &watched()).await,
        before,
        "verify must leave every table byte-for-byte as it found it"
    );
}

/// Breaks the database with `sql`; verify must exit 8 and name `check`
/// with `detail` in its finding.
async fn assert_names(label: &str, sql: &str, check: &str, detail: &str) {
    let db = TestDb::seeded(label, &small_spec(), 3).await;
    db.client().await.batch_execute(sql).await.unwrap();
    let out = run(&db, &["verify"]).expect_code(8);
    let failures = out
        .stdout
        .split("VALIDATION FAILED")
        .nth(1)
        .unwrap_or_else(|| panic!("no failure list in\n{}", out.stdout));
    let line = failures
        .lines()
        .find(|l| l.contains(&format!("] {check}:")))
        .unwrap_or_else(|| panic!("{check} not named in\n{failures}"));
    assert!(line.contains(detail), "{detail} not in {line}");
    assert!(!out.stdout.contains(SUCCESS_LINE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_index_is_named() {
    assert_names(
        "verify_index",
        "DROP INDEX core.idx_products_sku_lower",
        "every index of 003 exists and is valid",
        "missing_or_invalid_index=idx_products_sku_lower",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_index_also_fails_the_query_plan_check() {
    assert_names(
        "verify_plan",
        "DROP INDEX core.idx_products_sku_lower",
        "product search by SKU uses its case-insensitive index",
        "expected=idx_products_sku_lower",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_trigger_is_named() {
    assert_names(
        "verify_trigger",
        "ALTER TABLE core.stock_movement DISABLE TRIGGER stock_movement_update_cost",
        "triggers exist and are enabled",
        "stock_movement.stock_movement_update_cost",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_foreign_key_rule_is_named() {
    assert_names(
        "verify_fk",
        "ALTER TABLE core.stock_on_hand DROP CONSTRAINT stock_on_hand_product_id_fkey; \
         ALTER TABLE core.stock_on_hand ADD CONSTRAINT stock_on_hand_product_id_fkey \
         FOREIGN KEY (product_id) REFERENCES core.products (id) ON DELETE RESTRICT",
        "foreign keys have the ON DELETE rules of ADR-024",
        "foreign_key=core.stock_on_hand.product_id, referenced=core.products, expected_rule=c, found=r",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_without_its_unique_index_is_named() {
    assert_names(
        "verify_view",
        "DROP INDEX core.mv_low_stock_alerts_key",
        "views are populated and have a unique index on plain columns",
        "view_not_refreshable_concurrently=mv_low_stock_alerts",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_without_003_fails_and_says_so() {
    let db = TestDb::seeded("verify_absent", &small_spec(), 1).await;
    let out = run(&db, &["verify", "--version", "3"]).expect_code(8);
    assert!(
        out.stdout
            .contains("migration 003 is not applied: the database is at version 001"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("] new tables exist: 4 offending row(s)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("check(s) of migration 003 failed"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_thresholds_can_be_set_and_made_warnings() {
    let db = TestDb::seeded("verify_coverage", &small_spec(), 3).await;
    let strict = run(&db, &["verify", "--min-cost-coverage", "99.5"]).expect_code(8);
    assert!(
        strict.stdout.contains(
            "] cost coverage is above the minimum: 1 offending row(s): cost_coverage_pct="
        ),
        "{}",
        strict.stdout
    );
    assert!(
        strict.stdout.contains("must_exceed=99.5"),
        "{}",
        strict.stdout
    );
    let lenient = run(
        &db,
        &[
            "verify",
            "--min-cost-coverage",
            "99.5",
            "--coverage",
            "warning",
        ],
    )
    .expect_code(0);
    let warnings = lenient.stdout.split("warnings:").nth(1).unwrap();
    assert!(
        warnings.contains("cost coverage is above the minimum"),
        "{}",
        lenient.stdout
    );
    assert!(lenient.stdout.trim_end().ends_with(SUCCESS_LINE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_output_is_xml_with_one_testcase_per_check() {
    let db = TestDb::seeded("verify_junit", &small_spec(), 3).await;
    db.client()
        .await
        .batch_execute("DROP INDEX core.products_brand_idx")
        .await
        .unwrap();
    let json = run(&db, &["verify", "--format", "json"])
        .expect_code(8)
        .json();
    assert_eq!(json["passed"], false);
    let checks: Vec<&serde_json::Value> = json["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["report"]["results"].as_array().unwrap())
        .filter(|r| r["kind"] != "report")
        .collect();
    let xml = run(&db, &["verify", "--format", "junit"])
        .expect_code(8)
        .stdout;
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut names) = (0, 0, Vec::new());
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => {
                        cases += 1;
                        let name = e.try_get_attribute("name").unwrap().unwrap();
                        names.push(name.unescape_value().unwrap().into_owned());
                    }
                    b"failure" => failures += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(cases, checks.len());
    assert!(
        cases >= 37,
        "{cases} test cases: the checks of 001 and of 003"
    );
    assert_eq!(failures, 1, "exactly the index check fails:\n{xml}");
    for check in checks {
        assert!(names.contains(&check["name"].as_str().unwrap().to_string()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_shows_expected_beside_found() {
    let db = TestDb::seeded("health_ok", &small_spec(), 3).await;
    let out = run(&db, &["health"]).expect_code(0);
    assert!(
        out.stdout.contains("brand_coverage_pct   > 50"),
        "{}",
        out.stdout
    );
    let json = run(&db, &["health", "--format", "json"])
        .expect_code(0)
        .json();
    assert_eq!(json["healthy"], true);
    assert_eq!(json["items"].as_array().unwrap().len(), 5);

    let before = TestDb::seeded("health_absent", &small_spec(), 1).await;
    let out = run(&before, &["health"]).expect_code(8);
    assert!(
        out.stdout
            .contains("table missing: migration 003 is not applied"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("unhealthy: brand_exists, movement_exists"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_on_a_migrated_database_without_data() {
    let db = TestDb::at_version("verify_empty", 3).await;
    let out = run(&db, &["verify"]).expect_code(0);
    assert!(
        out.stdout.trim_end().ends_with(SUCCESS_LINE),
        "{}",
        out.stdout
    );
}

/// Plain `mantis verify` checks the whole schema: every applied migration's
/// suite, so an object any of them created is missed when it is gone — the
/// newest suite alone (004's) would pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_verify_checks_what_every_applied_migration_created() {
    let cases: &[(&str, &str, &str)] = &[
        ("DROP MATERIALIZED VIEW core.mv_inventory_valuation", "003 [7 Materialized views]", "mv_inventory_valuation"),
        ("DROP INDEX core.idx_products_sku_lower", "003 [3 Indexes]", "idx_products_sku_lower"),
        ("ALTER TABLE core.stock_on_hand DROP CONSTRAINT stock_on_hand_product_id_warehouse_id_key", "001 [2 Constraints]", "is not unique"),
        ("DROP INDEX core.stock_movement_idempotency_key", "004 [1 Ledger schema]", "stock_movement_idempotency_key"),
    ];
    for (i, (breakage, expect, detail)) in cases.iter().enumerate() {
        let db = TestDb::seeded(&format!("verify_whole_{i}"), &small_spec(), 4).await;
        run(&db, &["verify"]).expect_code(0);
        db.client().await.batch_execute(breakage).await.unwrap();
        let out = run(&db, &["verify"]).expect_code(8);
        let failures = out
            .stdout
            .split("VALIDATION FAILED")
            .nth(1)
            .unwrap_or_else(|| panic!("{breakage}: no failure list in\n{}", out.stdout));
        assert!(
            failures
                .lines()
                .any(|l| l.contains(expect) && l.contains(detail)),
            "{breakage}: expected a line with {expect} and {detail} in\n{failures}"
        );
        for version in ["001", "003", "004"] {
            assert!(
                out.stdout.contains(&format!("checks of {version}_")),
                "{}",
                out.stdout
            );
        }
    }
}

/// `mantis refresh` running beside `mantis verify`: verify's own concurrent
/// refresh check collides with it and is skipped (with the reason), not
/// failed, and the rest of verify passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_tolerates_a_refresh_running_at_the_same_time() {
    let db = TestDb::seeded("verify_refreshing", &small_spec(), 4).await;
    let other = db.client().await;
    other
        .batch_execute("BEGIN; REFRESH MATERIALIZED VIEW CONCURRENTLY core.mv_inventory_valuation")
        .await
        .unwrap();
    let verify = common::spawn(&db, &["verify"]);
    // Commit ours once verify (its snapshot taken) waits for our lock.
    let watcher = db.client().await;
    let waits = "SELECT count(*) FROM pg_locks \
                 WHERE NOT granted AND relation = 'core.mv_inventory_valuation'::regclass";
    for _ in 0..300 {
        let waiting: i64 = watcher.query_one(waits, &[]).await.unwrap().get(0);
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    other.batch_execute("COMMIT").await.unwrap();
    let out = common::finish(verify).expect_code(0);
    assert!(out.stdout.contains(SUCCESS_LINE), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("skip  a concurrent refresh of every view works"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("another session was doing the same (40001"),
        "{}",
        out.stdout
    );
}

/// A refresh in progress (as `mantis refresh --every 1s` keeps one) does not
/// make `up` see drift: the drift check no longer refreshes the views itself
/// (it used to wait for the refresh's lock, then fail). `--dry-run` runs the
/// drift check and stops before 004's own statements.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_is_not_refused_while_a_refresh_holds_the_views() {
    let db = TestDb::seeded("up_beside_refresh", &small_spec(), 3).await;
    let other = db.client().await;
    other
        .batch_execute(
            "BEGIN; REFRESH MATERIALIZED VIEW CONCURRENTLY core.mv_inventory_valuation; \
             REFRESH MATERIALIZED VIEW CONCURRENTLY core.mv_product_stock_summary; \
             REFRESH MATERIALIZED VIEW CONCURRENTLY core.mv_low_stock_alerts",
        )
        .await
        .unwrap();
    let mut options = db.options();
    options.options = Some("-c lock_timeout=2000".into());
    let out = common::run_url(&options.to_url_with_password(), &["up", "--dry-run"]).expect_code(0);
    assert!(out.stdout.contains("004"), "{}", out.stdout);
    other.batch_execute("COMMIT").await.unwrap();
}
