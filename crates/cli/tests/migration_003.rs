#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! Migration 003 through the binary: seed, the lossless rollback round trip,
//! backups, restore, and the demo's story.

mod common;

use common::{count, exists, run, scalar, small_spec};
use mantis_testkit::TestDb;

/// Every table whose data 003 owns or touches, as one digest per table.
async fn data(db: &TestDb) -> Vec<(String, String)> {
    mantis_testkit::table_digests(&db.client().await, mantis_testkit::TABLES_OF_003).await
}

/// Life after 003: receipts, a shipment, a new brand, an edited brand, new
/// contact details.
const NEW_DATA: &str = "
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price, reference_type, reference_number)
    SELECT product_id, warehouse_id, 'RECEIPT', 12.5, 41.123456, 'PURCHASE_ORDER', 'PO-1001'
    FROM core.stock_on_hand ORDER BY id LIMIT 20;
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, reference_type, reference_number)
    SELECT product_id, warehouse_id, 'SHIPMENT', -1, 'SALES_ORDER', 'SO-2001'
    FROM core.stock_on_hand WHERE quantity > 1 ORDER BY id LIMIT 10;
    INSERT INTO core.brand (name, code, website) VALUES ('Mantis Own Label', 'MANTIS', 'https://mantis.example');
    UPDATE core.brand SET description = 'renamed in the catalogue' WHERE code = 'BOSCH';
    UPDATE core.products SET brand_id = (SELECT id FROM core.brand WHERE code = 'MANTIS')
    WHERE sku IN ('SKU-0000001', 'SKU-0000002');
    UPDATE core.suppliers SET contact_email = 'new@cape.example', payment_terms = 'Net 15'
    WHERE name = 'Cape Hardware Wholesale';
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_saves_everything_and_up_with_restore_gives_back_identical_data() {
    let db = TestDb::seeded("cli_roundtrip", &small_spec(), 3).await;
    db.client().await.batch_execute(NEW_DATA).await.unwrap();
    let before = data(&db).await;

    let down = run(&db, &["down"]).expect_code(0);
    assert!(
        down.stderr
            .contains("data saved in schema mantis_backup_003_"),
        "{}",
        down.stderr
    );
    assert!(!exists(&db, "core.brand").await);
    assert!(!exists(&db, "core.stock_movement").await);

    let listed = run(&db, &["saved"]).expect_code(0);
    assert!(
        listed.stdout.contains("003_critical_schema_fixes"),
        "{}",
        listed.stdout
    );
    // `backups`: the former name, still accepted.
    let json = run(&db, &["backups", "--format", "json"])
        .expect_code(0)
        .json();
    let sets = json.as_array().unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0]["version"], 3);
    assert_eq!(
        sets[0]["rows"]["stock_movement"].as_i64().unwrap(),
        count(
            &db,
            &format!("{}.stock_movement", sets[0]["schema"].as_str().unwrap())
        )
        .await
    );

    let restored = run(&db, &["up", "--restore-saved", "latest", "--to", "3"]).expect_code(0);
    assert!(
        restored
            .stdout
            .contains("restored the data saved in mantis_backup_003_"),
        "{}",
        restored.stdout
    );
    assert_eq!(
        data(&db).await,
        before,
        "up with restore must give back identical data"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_that_moved_while_rolled_back_is_trued_up_by_one_movement() {
    let db = TestDb::seeded("cli_trueup", &small_spec(), 3).await;
    run(&db, &["down"]).expect_code(0);
    // The legacy application keeps writing quantities while 003 is gone.
    db.client()
        .await
        .batch_execute("UPDATE core.stock_on_hand SET quantity = quantity + 7 WHERE id = (SELECT min(id::text)::uuid FROM core.stock_on_hand)")
        .await
        .unwrap();
    run(&db, &["up", "--restore-saved", "latest"]).expect_code(0);
    assert_eq!(
        count(
            &db,
            "core.stock_movement WHERE reference_number = 'RESTORE-TRUE-UP' AND quantity = 7"
        )
        .await,
        1
    );
    let off = scalar(
        &db,
        "SELECT count(*) FROM core.stock_on_hand s LEFT JOIN (SELECT product_id, warehouse_id, sum(quantity) q \
         FROM core.stock_movement GROUP BY 1, 2) m USING (product_id, warehouse_id) WHERE s.quantity <> coalesce(m.q, 0)",
    )
    .await;
    assert_eq!(off, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_is_refused_unless_this_run_reapplies_the_migration() {
    let db = TestDb::seeded("cli_restore_refused", &small_spec(), 3).await;
    let none = run(&db, &["up", "--restore-saved", "latest"]).expect_code(5);
    assert!(
        none.stderr
            .contains("no saved set named \"latest\" (known: none)"),
        "{}",
        none.stderr
    );
    run(&db, &["down"]).expect_code(0);
    run(&db, &["up"]).expect_code(0);
    let late = run(&db, &["up", "--restore-saved", "latest"]).expect_code(5);
    assert!(
        late.stderr.contains("which this run does not apply"),
        "{}",
        late.stderr
    );
    let dry = run(&db, &["down", "--to", "1", "--dry-run"]).expect_code(0);
    assert!(dry.stdout.contains("003_critical_schema_fixes"));
    let planned = {
        run(&db, &["down", "--to", "1"]).expect_code(0);
        run(&db, &["up", "--dry-run", "--restore-saved", "latest"]).expect_code(0)
    };
    assert!(
        planned
            .stdout
            .contains("then: restore the data saved in mantis_backup_003_"),
        "{}",
        planned.stdout
    );
    assert!(
        !exists(&db, "core.brand").await,
        "a dry run changes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_loads_a_version_1_database_and_refuses_anything_else() {
    let empty = TestDb::empty("cli_seed_empty").await;
    let refused = run(&empty, &["seed", "--products", "10"]).expect_code(5);
    assert!(
        refused.stderr.contains("mantis up --to 1"),
        "{}",
        refused.stderr
    );

    let db = TestDb::at_version("cli_seed", 1).await;
    let bad = run(&db, &["seed", "--products", "0"]).expect_code(2);
    assert!(
        bad.stderr
            .contains("--products must be between 1 and 1000000"),
        "{}",
        bad.stderr
    );
    let seeded = run(&db, &["seed", "--products", "300", "--warehouses", "3"]).expect_code(0);
    assert!(
        seeded.stdout.contains("seeded 300 products x 3 warehouses"),
        "{}",
        seeded.stdout
    );
    assert_eq!(count(&db, "core.products").await, 300);
    assert_eq!(count(&db, "core.warehouses").await, 3);
    assert_eq!(count(&db, "core.suppliers").await, 22);
    let stock_line = seeded
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("core.stock_on_hand"))
        .unwrap();
    assert!(
        stock_line.ends_with(&count(&db, "core.stock_on_hand").await.to_string()),
        "{stock_line}"
    );

    let again = run(&db, &["seed", "--products", "300"]).expect_code(5);
    assert!(
        again.stderr.contains("already holds 300 row(s)"),
        "{}",
        again.stderr
    );
    run(&db, &["up"]).expect_code(0);
    let after = TestDb::at_version("cli_seed_after", 3).await;
    let late = run(&after, &["seed", "--format", "json"]).expect_code(5);
    assert_eq!(late.json()["error"]["exit_code"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_data() {
    let a = TestDb::at_version("cli_seed_a", 1).await;
    let b = TestDb::at_version("cli_seed_b", 1).await;
    let c = TestDb::at_version("cli_seed_c", 1).await;
    run(&a, &["seed", "--products", "200", "--seed", "7"]).expect_code(0);
    run(&b, &["seed", "--products", "200", "--seed", "7"]).expect_code(0);
    run(&c, &["seed", "--products", "200", "--seed", "8"]).expect_code(0);
    let digest = |db: &TestDb| {
        let db = db.url();
        async move {
            let client = mantis_testkit::connect(
                &mantis_migrate::ConnectOptions::resolve(Some(&db)).unwrap(),
            )
            .await;
            let mut out = String::new();
            for t in [
                "core.products",
                "core.supplier_products",
                "core.stock_on_hand",
                "core.suppliers",
            ] {
                let row = client
                    .query_one(
                        &format!("SELECT md5(string_agg((t.*)::text, '|' ORDER BY (t.*)::text)) FROM (SELECT * FROM {t}) t"),
                        &[],
                    )
                    .await
                    .unwrap();
                out.push_str(&row.get::<_, String>(0));
            }
            out
        }
    };
    // created_at/updated_at differ between loads; compare without them.
    let strip = "ALTER TABLE core.products DROP COLUMN created_at, DROP COLUMN updated_at; \
                 ALTER TABLE core.supplier_products DROP COLUMN created_at, DROP COLUMN updated_at; \
                 ALTER TABLE core.stock_on_hand DROP COLUMN created_at, DROP COLUMN updated_at, DROP COLUMN id; \
                 ALTER TABLE core.supplier_products DROP COLUMN id; \
                 ALTER TABLE core.suppliers DROP COLUMN created_at, DROP COLUMN updated_at;";
    for db in [&a, &b, &c] {
        db.client().await.batch_execute(strip).await.unwrap();
    }
    assert_eq!(digest(&a).await, digest(&b).await);
    assert_ne!(digest(&a).await, digest(&c).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_tells_the_seeds_story_with_the_numbers() {
    let db = TestDb::empty("cli_demo_admin").await;
    let name = format!("{}_demo", db.name());
    let out = run(&db, &["demo", "--database", &name, "--products", "500"]).expect_code(0);
    for needle in [
        "001 core baseline",
        "seed ",
        "003 critical schema fixes",
        "brands created",
        "products with a brand",
        "suppliers with an email",
        "cost coverage",
        "core.mv_inventory_valuation",
        "core.mv_low_stock_alerts",
        "004-006 inventory ledger",
        "checks in 21 sections of 003 and 004 and 005 and 006 passed",
        "MIGRATION SUCCESSFUL - ALL VALIDATIONS PASSED",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle} missing from\n{}",
            out.stdout
        );
    }
    assert!(
        out.stderr.contains("[4/5] migration 003")
            && out.stderr.contains("[5/5] migrations 004 to 006"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("README.md") && out.stdout.contains("docs/ledger.md"),
        "{}",
        out.stdout
    );
    // The next: lines run as printed, in a shell that has no DATABASE_URL.
    let next: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("next"))
        .filter(|l| l.contains(" --database-url "))
        .collect();
    assert_eq!(next.len(), 3, "{}", out.stdout);
    for line in next {
        let ran = common::Run::from(
            std::process::Command::new("bash")
                .args(["-c", line.trim()])
                .env_remove("DATABASE_URL")
                .env("PGPASSWORD", db.options().password.unwrap_or_default())
                .output()
                .unwrap(),
        )
        .expect_code(0);
        assert!(!ran.stdout.is_empty(), "{line}");
    }
    let json = run(
        &db,
        &[
            "demo",
            "--database",
            &name,
            "--products",
            "500",
            "--format",
            "json",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(json["summary"]["products"], 500);
    assert!(
        json["verify"][0]["report"]["results"]
            .as_array()
            .unwrap()
            .len()
            > 30
    );
    assert!(
        json["cost_coverage_pct"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            > 70.0
    );
    let admin = db.client().await;
    mantis_migrate::scratch::drop_database(&admin, &name)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_undoes_a_half_done_003_with_its_down_file() {
    let db = TestDb::seeded("cli_undo_partial", &small_spec(), 1).await;
    // Phase 2 fails (at its views) after phase 1 has committed.
    common::refuse_ddl(&db, "CREATE MATERIALIZED VIEW").await;
    let failed = run(&db, &["up"]).expect_code(6);
    common::allow_ddl(&db).await;
    assert!(failed.stderr.contains("stopped after"), "{}", failed.stderr);
    assert!(exists(&db, "core.brand").await, "phase 1 committed");
    let status = run(&db, &["status"]).expect_code(0);
    assert!(status.stdout.contains("PARTIAL"), "{}", status.stdout);
    let plan = run(&db, &["plan", "--down"]).expect_code(0);
    assert!(
        plan.stdout.contains("down 003_critical_schema_fixes"),
        "{}",
        plan.stdout
    );
    run(&db, &["down"]).expect_code(0);
    assert!(!exists(&db, "core.brand").await);
    assert_eq!(count(&db, "mantis.migration_progress").await, 0);
    assert_eq!(
        scalar(&db, "SELECT max(version) FROM mantis.schema_migrations").await,
        "1"
    );
    let status = run(&db, &["status"]).expect_code(0);
    assert!(!status.stdout.contains("PARTIAL"), "{}", status.stdout);
}
