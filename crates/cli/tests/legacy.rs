//! The legacy database nobody described: values and objects a real MantisNXT
//! database holds that no migration made — a NaN quantity, a user's trigger
//! on a table a migration rewrites. Each is named and refused before any
//! change, or handled as the user says; nothing in the books changes silently.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use common::{fingerprint, run, small_spec};
use mantis_testkit::TestDb;
use tokio_postgres::error::SqlState;

/// One stock row of the seed that 003 gives a unit cost (a supplier price in
/// the base currency), so its NaN reaches the stock value too: a row without
/// a cost has no value, and a NaN there would leave the value sums alone.
const ONE_STOCK_ROW: &str = "(SELECT s.id FROM core.stock_on_hand s \
     WHERE EXISTS (SELECT FROM core.supplier_products sp WHERE sp.product_id = s.product_id \
                   AND sp.cost_price > 0 AND sp.currency = 'ZAR') \
     ORDER BY s.id LIMIT 1)";

/// A seeded database at 001 whose first stock row holds a NaN quantity.
async fn seeded_with_a_nan(label: &str) -> TestDb {
    let db = TestDb::seeded(label, &small_spec(), 1).await;
    db.client()
        .await
        .batch_execute(&format!(
            "UPDATE core.stock_on_hand SET quantity = 'NaN' WHERE id = {ONE_STOCK_ROW}"
        ))
        .await
        .unwrap();
    db
}

/// A NaN quantity in 001's stock is refused before 003 (exit 5, nothing
/// changed), naming the row and the UPDATE that fixes it; fixed, the database
/// migrates, and from migration 006 on the database refuses NaN itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nan_quantity_is_refused_before_003_and_refused_for_good_after_006() {
    let db = seeded_with_a_nan("legacy_nan_before_003").await;
    let client = db.client().await;
    let schema = fingerprint(&db).await;
    let out = run(&db, &["up"]).expect_code(5);
    assert!(
        out.stderr
            .contains("quantities, costs and stock levels are numbers (no NaN)")
            && out.stderr.contains(
                "UPDATE core.stock_on_hand SET quantity = <counted quantity> WHERE id = "
            ),
        "{}",
        out.stderr
    );
    assert_eq!(fingerprint(&db).await, schema, "nothing changed");
    run(&db, &["deploy", "--no-backup", "--dry-run"]).expect_code(5);

    client
        .batch_execute("UPDATE core.stock_on_hand SET quantity = 3 WHERE quantity = 'NaN'")
        .await
        .unwrap();
    run(&db, &["up"]).expect_code(0);
    for change in [
        format!("UPDATE core.stock_on_hand SET quantity = 'NaN' WHERE id = {ONE_STOCK_ROW}"),
        "UPDATE core.supplier_products SET cost_price = 'NaN'".to_string(),
        "UPDATE core.products SET max_stock_level = 'NaN'".to_string(),
        format!(
            "INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price) \
             SELECT product_id, warehouse_id, 'RECEIPT', 1, 'NaN' FROM core.stock_on_hand WHERE id = {ONE_STOCK_ROW}"
        ),
    ] {
        let err = client.batch_execute(&change).await.unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::CHECK_VIOLATION), "{change}: {err}");
    }
    run(&db, &["verify"]).expect_code(0);
}

/// A NaN that reached the ledger (003 run past the drift check, as it ran
/// before these checks existed) is found by `verify`, stops `up` before 006,
/// and every reader of the books says what it is instead of failing to
/// convert a number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nan_in_the_ledger_is_found_named_and_refused() {
    let db = seeded_with_a_nan("legacy_nan_in_ledger").await;
    run(&db, &["up", "--to", "5", "--no-drift-check"]).expect_code(0);
    assert_eq!(
        common::count(&db, "core.stock_movement WHERE quantity = 'NaN'").await,
        1,
        "the opening balance carried the NaN (what the checks must catch)"
    );
    assert_eq!(
        common::scalar(&db, "SELECT sum(total_value) FROM core.stock_on_hand").await,
        "NaN",
        "and the database's stock value is NaN"
    );

    let out = run(&db, &["verify"]).expect_code(8);
    assert!(
        out.stdout.contains("the books hold numbers (no NaN)"),
        "{}",
        out.stdout
    );
    let schema = fingerprint(&db).await;
    let out = run(&db, &["up"]).expect_code(5);
    assert!(
        out.stderr.contains("refusing to migrate")
            && out.stderr.contains("(no NaN)")
            && out
                .stderr
                .contains("UPDATE core.stock_on_hand SET quantity"),
        "{}",
        out.stderr
    );
    assert_eq!(fingerprint(&db).await, schema, "006 did not start");

    let sku = common::scalar(
        &db,
        "SELECT p.sku FROM core.stock_on_hand s JOIN core.products p ON p.id = s.product_id \
         WHERE s.quantity = 'NaN'",
    )
    .await;
    for command in [
        &["stock", "levels", "--sku", &sku][..],
        &["stock", "history", "--sku", &sku][..],
        &["report", "valuation"][..],
        &["maintain", "--only", "audit"][..],
    ] {
        let out = run(&db, command);
        assert_ne!(out.code, 0, "{command:?}");
        assert!(
            out.stderr.contains("the database holds NaN (not a number)")
                && out.stderr.contains("mantis verify"),
            "{command:?}: {}",
            out.stderr
        );
    }
}

/// A DBA's BEFORE UPDATE trigger that rounds quantities, a rule and a
/// policy, on tables 003 rewrites: `plan`, `up` and `deploy` name each and
/// refuse (exit 5) before any change; `--user-triggers fire` runs, naming them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_triggers_rules_and_policies_on_rewritten_tables_are_named_and_refused() {
    let db = TestDb::seeded("legacy_user_triggers", &small_spec(), 1).await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE FUNCTION public.round_quantity() RETURNS trigger LANGUAGE plpgsql \
             AS $$ BEGIN NEW.quantity := round(NEW.quantity); RETURN NEW; END $$; \
             CREATE TRIGGER round_quantity BEFORE UPDATE ON core.stock_on_hand \
             FOR EACH ROW EXECUTE FUNCTION public.round_quantity(); \
             CREATE RULE suppliers_changed AS ON UPDATE TO core.suppliers DO ALSO NOTIFY suppliers_changed; \
             CREATE POLICY products_mine ON core.products USING (true)",
        )
        .await
        .unwrap();
    let schema = fingerprint(&db).await;
    let data =
        mantis_testkit::table_digests(&client, &["core.stock_on_hand", "core.suppliers"]).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("deploy.log");
    for command in [
        &["plan"][..],
        &["up"][..],
        &["deploy", "--no-backup", "--log", log.to_str().unwrap()][..],
    ] {
        let out = run(&db, command).expect_code(5);
        for expected in [
            "trigger round_quantity on core.stock_on_hand: CREATE TRIGGER round_quantity BEFORE UPDATE",
            "rule suppliers_changed on core.suppliers",
            "policy products_mine on core.products",
            "--user-triggers fire",
        ] {
            assert!(out.stderr.contains(expected), "{command:?}: {expected:?} in\n{}", out.stderr);
        }
    }
    assert_eq!(fingerprint(&db).await, schema, "nothing changed");
    assert_eq!(
        mantis_testkit::table_digests(&client, &["core.stock_on_hand", "core.suppliers"]).await,
        data,
        "no value changed"
    );

    let out = run(&db, &["up", "--to", "3", "--user-triggers", "fire"]).expect_code(0);
    assert!(
        out.stderr
            .contains("--user-triggers fire: these act on every row it writes")
            && out
                .stderr
                .contains("trigger round_quantity on core.stock_on_hand"),
        "{}",
        out.stderr
    );
}

/// `baseline` checks what it records: a database with only 001's schema is
/// not at 005 (refused, exit 5, nothing recorded); the truth is recorded;
/// `--force REASON` records it anyway and the event log keeps the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_refuses_to_record_what_the_database_does_not_have() {
    let db = TestDb::at_version("legacy_baseline_lie", 1).await;
    let client = db.client().await;
    client
        .batch_execute("DROP SCHEMA mantis CASCADE")
        .await
        .unwrap();
    let out = run(&db, &["baseline", "--version", "5"]).expect_code(5);
    assert!(
        out.stderr.contains("refusing to baseline at 005")
            && out.stderr.contains("003: [1 Schema]")
            && out.stderr.contains("--force REASON"),
        "{}",
        out.stderr
    );
    assert!(
        !common::exists(&db, "mantis.schema_migrations").await,
        "nothing was recorded"
    );
    run(&db, &["baseline", "--version", "1"]).expect_code(0);
    let status = run(&db, &["--format", "json", "status"])
        .expect_code(0)
        .json();
    assert_eq!(status["current"], 1, "{status}");

    let forced = TestDb::at_version("legacy_baseline_forced", 1).await;
    forced
        .client()
        .await
        .batch_execute("DROP SCHEMA mantis CASCADE")
        .await
        .unwrap();
    run(
        &forced,
        &[
            "baseline",
            "--version",
            "3",
            "--force",
            "restored from a dump by hand",
        ],
    )
    .expect_code(0);
    let logged = common::scalar(
        &forced,
        "SELECT string_agg(DISTINCT mode, '|') FROM mantis.migration_events WHERE version = 3",
    )
    .await;
    assert!(
        logged.starts_with("baseline (forced past ")
            && logged.ends_with("failed check(s): restored from a dump by hand)"),
        "the reason is kept: {logged}"
    );
}

/// A database that really has the schema baselines at its version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_records_a_database_that_has_the_schema() {
    let db = TestDb::seeded("legacy_baseline_true", &small_spec(), 6).await;
    db.client()
        .await
        .batch_execute("DROP SCHEMA mantis CASCADE")
        .await
        .unwrap();
    run(&db, &["baseline", "--version", "6"]).expect_code(0);
    run(&db, &["verify"]).expect_code(0);
}

/// A read-only database: `up` refuses before writing anything (exit 5), and
/// `verify` skips the checks that write, saying why, and passes on the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_is_refused_by_up_and_verified_without_writing() {
    let db = TestDb::seeded("legacy_read_only", &small_spec(), 6).await;
    let admin = mantis_testkit::connect(&mantis_testkit::server()).await;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {} SET default_transaction_read_only = on",
            db.name()
        ))
        .await
        .unwrap();
    let out = run(&db, &["--format", "json", "verify"])
        .expect_code(0)
        .json();
    let text = out.to_string();
    assert!(text.contains("the database is read-only"), "{text}");
    assert!(text.contains("\"passed\""), "{text}");

    let fresh = TestDb::empty("legacy_read_only_fresh").await;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {} SET default_transaction_read_only = on",
            fresh.name()
        ))
        .await
        .unwrap();
    let out = run(&fresh, &["up"]).expect_code(5);
    assert!(
        out.stderr.contains("the database cannot be written")
            && out.stderr.contains("default_transaction_read_only"),
        "{}",
        out.stderr
    );
    assert!(
        !common::exists(&fresh, "mantis.schema_migrations").await,
        "nothing was written"
    );
    let out = run(&fresh, &["baseline", "--version", "1"]).expect_code(5);
    assert!(out.stderr.contains("cannot be written"), "{}", out.stderr);
}

/// A constraint under a name 006 adds, made by someone else, is refused
/// before 006 changes anything (it would be adopted, and later dropped by
/// 006's down).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_named_constraint_of_someone_else_is_refused_before_006() {
    let db = TestDb::seeded("legacy_same_name_006", &small_spec(), 5).await;
    db.client()
        .await
        .batch_execute(
            "ALTER TABLE core.products ADD CONSTRAINT products_stock_levels_are_numbers \
             CHECK (min_stock_level >= 0)",
        )
        .await
        .unwrap();
    let schema = fingerprint(&db).await;
    let out = run(&db, &["up"]).expect_code(5);
    assert!(
        out.stderr.contains("refusing to run 006_finite_books")
            && out.stderr.contains(
                "constraint products_stock_levels_are_numbers on core.products already exists"
            ),
        "{}",
        out.stderr
    );
    assert_eq!(fingerprint(&db).await, schema, "nothing changed");
}

/// Ctrl-C or SIGTERM during `up`: exit 130 or 143 with a line pointing to
/// `mantis status`; the migration in progress was rolled back, the one
/// before stays applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_during_up_says_where_to_look() {
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let db = TestDb::empty(&format!("legacy_signal_{signal}")).await;
        let dir = common::Dir::with(&[
            ("001_t.up.sql", "CREATE TABLE t (id int PRIMARY KEY);"),
            (
                "002_slow.up.sql",
                "INSERT INTO t VALUES (2);\nSELECT pg_sleep(60);",
            ),
        ]);
        let child = common::spawn(&db, &["up", "--source", &dir.arg()]);
        let started = std::time::Instant::now();
        while common::count(
            &db,
            "pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
        )
        .await
            == 0
        {
            assert!(
                started.elapsed().as_secs() < 30,
                "the slow migration never started"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let killed = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let out = common::finish(child);
        assert_eq!(out.code, code, "{signal}: {out:#?}");
        assert!(
            out.stderr.contains(&format!("interrupted by SIG{signal}"))
                && out
                    .stderr
                    .contains("`mantis status` shows where the run stopped"),
            "{}",
            out.stderr
        );
        let status = run(&db, &["--format", "json", "status", "--source", &dir.arg()])
            .expect_code(0)
            .json();
        assert_eq!(status["current"], 1, "{status}");
    }
}

/// A legacy overload `core.is_valid_email(varchar)` is no conflict: 003's
/// `(text)` is another function beside it. It migrates, and the overload
/// stays through up and down. The same signature is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_overload_is_left_beside_the_migrations_function() {
    let db = TestDb::seeded("legacy_overload", &small_spec(), 1).await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE FUNCTION core.is_valid_email(value varchar) RETURNS boolean LANGUAGE sql \
             AS $$ SELECT value LIKE '%@%' $$",
        )
        .await
        .unwrap();
    let legacy = "SELECT count(*) FROM pg_proc WHERE oid = to_regprocedure('core.is_valid_email(character varying)')";
    run(&db, &["up", "--to", "3"]).expect_code(0);
    assert_eq!(
        common::scalar(&db, legacy).await,
        "1",
        "the overload is still there"
    );
    run(&db, &["verify"]).expect_code(0);
    run(&db, &["down", "--to", "1"]).expect_code(0);
    assert_eq!(common::scalar(&db, legacy).await, "1", "down left it alone");

    client
        .batch_execute(
            "CREATE FUNCTION core.is_valid_email(v text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$",
        )
        .await
        .unwrap();
    let out = run(&db, &["up"]).expect_code(5);
    assert!(
        out.stderr
            .contains("function core.is_valid_email(text) already exists"),
        "{}",
        out.stderr
    );
}
