//! apply / revert / re-apply, plan, status, baseline — through the real binary.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use common::{count, exists, run, scalar, Dir};
use mantis_migrate::verify;
use mantis_testkit::TestDb;

fn three_migrations() -> Dir {
    Dir::with(&[
        ("001_items.up.sql", "CREATE TABLE items (id int PRIMARY KEY, label text);"),
        ("001_items.down.sql", "DROP TABLE items;"),
        ("002_seed.up.sql", "INSERT INTO items VALUES (1, 'one'), (2, 'two');"),
        ("002_seed.down.sql", "DELETE FROM items WHERE id IN (1, 2);"),
        ("003_index.up.sql", "-- mantis: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS items_label ON items (label);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS items_label2 ON items (label, id);"),
        ("003_index.down.sql", "-- mantis: no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS items_label2;\nDROP INDEX CONCURRENTLY IF EXISTS items_label;"),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_revert_reapply_keeps_history_exact() {
    let db = TestDb::empty("apply_revert_reapply").await;
    let dir = three_migrations();
    let src = dir.arg();

    let up = run(&db, &["up", "--source", &src]).expect_code(0);
    assert!(
        up.stdout
            .contains("applied 3 migration(s); the database is at version 003"),
        "{}",
        up.stdout
    );
    assert!(exists(&db, "items_label2").await);
    assert_eq!(count(&db, "items").await, 2);
    let modes = scalar(
        &db,
        "SELECT string_agg(mode, ',' ORDER BY version) FROM mantis.schema_migrations",
    )
    .await;
    assert_eq!(modes, "transaction,transaction,no-transaction");

    let down = run(&db, &["down", "--source", &src, "--to", "1"]).expect_code(0);
    assert!(
        down.stdout
            .contains("reverted 2 migration(s); the database is at version 001"),
        "{}",
        down.stdout
    );
    assert!(!exists(&db, "items_label").await);
    assert_eq!(count(&db, "items").await, 0);
    assert_eq!(count(&db, "mantis.schema_migrations").await, 1);

    run(&db, &["up", "--source", &src]).expect_code(0);
    assert_eq!(count(&db, "items").await, 2);
    assert_eq!(count(&db, "mantis.schema_migrations").await, 3);
    let events = scalar(
        &db,
        "SELECT string_agg(action || version, ' ' ORDER BY id) FROM mantis.migration_events",
    )
    .await;
    assert_eq!(events, "up1 up2 up3 down3 down2 up2 up3");
    assert_eq!(count(&db, "mantis.migration_progress").await, 0);

    let again = run(&db, &["up", "--source", &src]).expect_code(0);
    assert!(
        again
            .stdout
            .contains("up to date: the database is at version 003"),
        "{}",
        again.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_without_to_reverts_only_the_last_and_to_zero_reverts_all() {
    let db = TestDb::empty("down_defaults").await;
    let dir = three_migrations();
    let src = dir.arg();
    run(&db, &["up", "--source", &src]).expect_code(0);
    run(&db, &["down", "--source", &src]).expect_code(0);
    assert_eq!(
        scalar(&db, "SELECT max(version) FROM mantis.schema_migrations").await,
        "2"
    );
    run(&db, &["down", "--source", &src, "--to", "0"]).expect_code(0);
    assert_eq!(count(&db, "mantis.schema_migrations").await, 0);
    assert!(!exists(&db, "items").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_shows_sql_and_changes_nothing() {
    let db = TestDb::empty("plan_changes_nothing").await;
    let dir = three_migrations();
    let src = dir.arg();
    let before = common::fingerprint(&db).await;
    let plan = run(&db, &["plan", "--source", &src, "--to", "2"]).expect_code(0);
    assert!(
        plan.stdout
            .contains("plan: up from version none to 002 (2 migration(s))"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("INSERT INTO items VALUES (1, 'one')"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("CREATE INDEX"),
        "plan --to 2 must stop at 002"
    );
    run(&db, &["up", "--source", &src, "--dry-run"]).expect_code(0);
    assert_eq!(
        common::fingerprint(&db).await,
        before,
        "plan and dry-run must not change the database"
    );
    assert!(!exists(&db, "mantis.schema_migrations").await);

    let json = run(&db, &["plan", "--source", &src, "--format", "json"])
        .expect_code(0)
        .json();
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["plan"]["steps"].as_array().map(Vec::len), Some(3));
    assert_eq!(json["plan"]["steps"][2]["transactional"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_every_state_in_text_and_json() {
    let db = TestDb::empty("status_states").await;
    let dir = three_migrations();
    let src = dir.arg();
    run(&db, &["up", "--source", &src, "--to", "2"]).expect_code(0);
    let text = run(&db, &["status", "--source", &src])
        .expect_code(0)
        .stdout;
    assert!(text.contains("version:    002 (1 pending)"), "{text}");
    let json = run(&db, &["status", "--source", &src, "--format", "json"])
        .expect_code(0)
        .json();
    let states: Vec<&str> = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["applied", "applied", "pending"]);
    assert_eq!(json["entries"][0]["applied"]["mode"], "transaction");
    assert!(json["entries"][0]["applied"]["tool_version"]
        .as_str()
        .unwrap()
        .starts_with("mantis "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_baseline_applies_reverts_and_passes_its_verify_checks() {
    let db = TestDb::empty("embedded_001").await;
    run(&db, &["up", "--to", "1"]).expect_code(0);
    for table in [
        "users",
        "suppliers",
        "categories",
        "products",
        "supplier_products",
        "warehouses",
        "stock_on_hand",
    ] {
        assert!(
            exists(&db, &format!("core.{table}")).await,
            "core.{table} missing"
        );
    }
    let suite = mantis_schema::migrations()
        .unwrap()
        .get(1)
        .unwrap()
        .verify_suite()
        .unwrap();
    let client = db.client().await;
    let report = verify::run(&client, &suite, &Default::default())
        .await
        .unwrap();
    let failed: Vec<_> = report.failures().map(|r| r.finding()).collect();
    assert!(report.passed(), "001 checks failed: {failed:?}");
    // The checks can fail: break the schema and exactly the right one finds it.
    client.batch_execute("ALTER TABLE core.stock_on_hand DROP CONSTRAINT stock_on_hand_product_id_warehouse_id_key").await.unwrap();
    let report = verify::run(&client, &suite, &Default::default())
        .await
        .unwrap();
    let failing: Vec<&str> = report.failures().map(|r| r.check.name.as_str()).collect();
    assert_eq!(failing, ["one stock row per product and warehouse"]);
    client
        .batch_execute("ALTER TABLE core.stock_on_hand ADD UNIQUE (product_id, warehouse_id)")
        .await
        .unwrap();
    run(&db, &["down"]).expect_code(0);
    assert!(!exists(&db, "core.products").await);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'core'"
        )
        .await,
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_records_without_running_and_refuses_twice() {
    let db = TestDb::empty("baseline").await;
    // An existing MantisNXT database: the schema is there, created by hand.
    let up = mantis_schema::migrations()
        .unwrap()
        .get(1)
        .unwrap()
        .up
        .sql
        .clone();
    db.client().await.batch_execute(&up).await.unwrap();
    let out = run(&db, &["baseline", "--version", "1"]).expect_code(0);
    assert!(
        out.stdout
            .contains("recorded 001_core_baseline as applied without running anything"),
        "{}",
        out.stdout
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT mode FROM mantis.schema_migrations WHERE version = 1"
        )
        .await,
        "baseline"
    );
    run(&db, &["up"])
        .expect_code(0)
        .stdout
        .contains("up to date");
    let again = run(&db, &["baseline", "--version", "1"]).expect_code(5);
    assert!(
        again.stderr.contains("already has migration history"),
        "{}",
        again.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_notices_are_shown_as_they_arrive() {
    let db = TestDb::empty("notices").await;
    let dir = Dir::with(&[(
        "001_talk.up.sql",
        "DO $$ BEGIN RAISE NOTICE 'backfilled % rows', 42; RAISE WARNING 'check the brands' USING HINT = 'see report'; END $$;",
    )]);
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    assert!(
        out.stderr.contains("NOTICE: backfilled 42 rows"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("WARNING: check the brands\n  HINT: see report"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stdout.contains("backfilled"),
        "notices go to stderr, results to stdout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_down_and_baseline_speak_json() {
    let db = TestDb::empty("json_outputs").await;
    let dir = three_migrations();
    let src = dir.arg();
    let up = run(
        &db,
        &["--format", "json", "up", "--source", &src, "--to", "2"],
    )
    .expect_code(0)
    .json();
    assert_eq!(up["version_after"], 2);
    assert_eq!(up["completed"].as_array().map(Vec::len), Some(2));
    assert!(up["completed"][0]["duration_ms"].is_i64());
    let down = run(&db, &["--format", "json", "down", "--source", &src])
        .expect_code(0)
        .json();
    assert_eq!(down["plan"]["direction"], "down");
    assert_eq!(down["version_after"], 1);

    let fresh = TestDb::empty("json_baseline").await;
    let base = run(
        &fresh,
        &[
            "--format",
            "json",
            "baseline",
            "--source",
            &src,
            "--version",
            "2",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(base["version_after"], 2);
    assert_eq!(base["completed"][1]["name"], "seed");
    assert!(!exists(&fresh, "items").await, "baseline runs nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_refuses_a_schema_that_drifted_but_not_data_that_moved_on() {
    let db = TestDb::empty("drift_check").await;
    let dir = Dir::with(&[
        ("001_t.up.sql", "CREATE TABLE t (id int PRIMARY KEY);"),
        (
            "001_t.verify.sql",
            "-- section: 1 Schema\n-- check: table t exists\nSELECT 't' AS missing WHERE to_regclass('t') IS NULL;\n\
             -- section: 2 Data\n-- drift-check: skip\n-- check: t is empty\nSELECT id FROM t;\n",
        ),
    ]);
    run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    db.client()
        .await
        .batch_execute("INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    dir.write("002_u.up.sql", "CREATE TABLE u (id int);");
    run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    dir.write("003_v.up.sql", "CREATE TABLE v (id int);");
    db.client()
        .await
        .batch_execute("ALTER TABLE t RENAME TO t_old")
        .await
        .unwrap();
    // 002 has no checks of its own: 001's still guard the schema.
    let refused = run(&db, &["up", "--source", &dir.arg()]).expect_code(5);
    assert!(
        refused.stderr.contains("does not match migration 001")
            && refused
                .stderr
                .contains("table t exists: 1 offending row(s): missing=t"),
        "{}",
        refused.stderr
    );
    assert!(!exists(&db, "v").await, "nothing may change");
    run(&db, &["up", "--source", &dir.arg(), "--no-drift-check"]).expect_code(0);
    assert!(exists(&db, "v").await);
}

/// What one migration sets for its session ends with it: the next one
/// starts with the session's defaults (here, a search_path that would make
/// 002 create its table nowhere).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrations_session_settings_end_with_it() {
    let db = TestDb::empty("session_reset").await;
    let dir = Dir::with(&[
        (
            "001_settings.up.sql",
            "-- mantis: no-transaction\nSET search_path = nowhere;",
        ),
        ("002_table.up.sql", "CREATE TABLE made_here (a int);"),
    ]);
    run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    assert!(exists(&db, "public.made_here").await);
}
