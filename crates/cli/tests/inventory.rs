#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! The inventory commands against a seeded database at the newest migration:
//! stock, report, refresh, brand and supplier contact.

mod common;

use common::{count, finish, run, scalar, small_spec, spawn, Dir};
use mantis_testkit::TestDb;

async fn books(label: &str) -> TestDb {
    TestDb::seeded(label, &small_spec(), 6).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_commands_post_through_the_ledger_and_read_it_back() {
    let db = books("cli_stock").await;
    let sku = "SKU-0000001";
    let on_hand = |wh: &'static str| {
        let db = &db;
        async move {
            scalar(
                db,
                &format!(
                    "SELECT s.quantity FROM core.stock_on_hand s JOIN core.products p ON p.id = s.product_id \
                     JOIN core.warehouses w ON w.id = s.warehouse_id WHERE p.sku = '{sku}' AND w.code = '{wh}'"
                ),
            )
            .await
            .parse::<f64>()
            .unwrap_or(0.0)
        }
    };
    let jhb = on_hand("JHB-01").await;
    let receive = [
        "stock",
        "receive",
        "--sku",
        sku,
        "--warehouse",
        "JHB-01",
        "--quantity",
        "10",
        "--unit-cost",
        "12.50",
        "--reference",
        "PO-1",
        "--line",
        "1",
    ];
    let out = run(&db, &receive).expect_code(0);
    assert!(
        out.stdout
            .contains("posted RECEIPT +10 SKU-0000001 in JHB-01 at 12.5"),
        "{}",
        out.stdout
    );
    let again = run(&db, &receive).expect_code(0);
    assert!(
        again.stdout.contains("skipped RECEIPT +10")
            && again
                .stdout
                .contains("0 movement(s) posted, 1 already posted before"),
        "{}",
        again.stdout
    );
    assert_eq!(on_hand("JHB-01").await, jhb + 10.0);

    run(
        &db,
        &[
            "stock",
            "ship",
            "--sku",
            sku,
            "--warehouse",
            "JHB-01",
            "--quantity",
            "3",
        ],
    )
    .expect_code(0);
    run(
        &db,
        &[
            "stock",
            "adjust",
            "--sku",
            sku,
            "--warehouse",
            "JHB-01",
            "--quantity",
            "-1",
            "--notes",
            "count",
        ],
    )
    .expect_code(0);
    let moved = run(
        &db,
        &[
            "--format",
            "json",
            "stock",
            "transfer",
            "--sku",
            sku,
            "--from",
            "JHB-01",
            "--to",
            "CPT-01",
            "--quantity",
            "2",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(
        moved[0]["unit_cost"], moved[1]["unit_cost"],
        "the receiving side takes the sender's cost"
    );
    assert_eq!(on_hand("JHB-01").await, jhb + 10.0 - 3.0 - 1.0 - 2.0);

    let refused: [(&[&str], i32, &str); 8] = [
        (
            &[
                "stock",
                "ship",
                "--sku",
                sku,
                "--warehouse",
                "JHB-01",
                "--quantity",
                "1000000",
            ],
            5,
            "insufficient stock",
        ),
        (
            &[
                "stock",
                "ship",
                "--sku",
                "NOPE",
                "--warehouse",
                "JHB-01",
                "--quantity",
                "1",
            ],
            2,
            "unknown product SKU \"NOPE\"",
        ),
        (
            &[
                "stock",
                "receive",
                "--sku",
                sku,
                "--warehouse",
                "JHB-01",
                "--quantity",
                "0",
                "--unit-cost",
                "1",
            ],
            2,
            "quantity is 0",
        ),
        (
            &[
                "stock",
                "receive",
                "--sku",
                sku,
                "--warehouse",
                "JHB-01",
                "--quantity",
                "ten",
                "--unit-cost",
                "1",
            ],
            2,
            "\"ten\" is not a decimal number",
        ),
        // Refused, not rounded to 0 (28 significant digits at most).
        (
            &[
                "stock",
                "receive",
                "--sku",
                sku,
                "--warehouse",
                "JHB-01",
                "--quantity",
                "0.000000000000000000000000000001",
                "--unit-cost",
                "1",
            ],
            2,
            "nothing is rounded",
        ),
        (
            &[
                "stock",
                "receive",
                "--sku",
                sku,
                "--warehouse",
                "JHB-01",
                "--quantity",
                "123456789012345678901234567890",
                "--unit-cost",
                "1",
            ],
            2,
            "too large",
        ),
        // Asking about what does not exist is a mistake, not an empty answer.
        (
            &["stock", "history", "--sku", "NOPE"],
            2,
            "unknown product SKU \"NOPE\"",
        ),
        (
            &["stock", "levels", "--warehouse", "NOWHERE"],
            2,
            "unknown warehouse \"NOWHERE\"",
        ),
    ];
    for (args, code, expected) in refused {
        let out = run(&db, args).expect_code(code);
        assert!(out.stderr.contains(expected), "{args:?}: {}", out.stderr);
    }
    assert_eq!(
        on_hand("JHB-01").await,
        jhb + 4.0,
        "refused postings change nothing"
    );

    let history = run(
        &db,
        &[
            "--format",
            "csv",
            "stock",
            "history",
            "--sku",
            sku,
            "--warehouse",
            "JHB-01",
        ],
    )
    .expect_code(0);
    let lines: Vec<&str> = history.stdout.lines().collect();
    assert!(
        lines[0].starts_with(
            "id,warehouse,movement_type,quantity,unit_cost,value_delta,quantity_after"
        ),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines.len(),
        1 + 5,
        "opening balance, receipt, shipment, adjustment, transfer out:\n{}",
        history.stdout
    );
    assert!(lines[5].contains(",TRANSFER,-2.0000,"), "{}", lines[5]);
    let levels = run(&db, &["stock", "levels", "--sku", sku]).expect_code(0);
    assert!(
        levels.stdout.starts_with("sku ") && levels.stdout.contains("JHB-01"),
        "{}",
        levels.stdout
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM core.stock_movement WHERE seq IS NOT NULL"
        )
        .await,
        "5",
        "receipt, shipment, adjustment and the two sides of the transfer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_file_posts_all_lines_or_none() {
    let db = books("cli_stock_batch").await;
    let dir = Dir::with(&[
        (
            "good.csv",
            "kind,sku,warehouse,to_warehouse,quantity,unit_cost,reference,line\n\
             receipt,SKU-0000002,JHB-01,,5,7.25,PO-7,1\n\
             return,SKU-0000002,JHB-01,,1,,SO-3,1\n\
             write-off,SKU-0000002,JHB-01,,1,,,\n\
             transfer,SKU-0000002,JHB-01,CPT-01,2,,TO-4,1\n",
        ),
        (
            "short.json",
            r#"[{"kind": "receipt", "sku": "SKU-0000003", "warehouse": "JHB-01", "quantity": 1, "unit_cost": "2"},
                {"kind": "shipment", "sku": "SKU-0000003", "warehouse": "JHB-01", "quantity": "99999999"}]"#,
        ),
        ("broken.csv", "kind,sku,warehouse,quantity\nreceipt,SKU-0000003,JHB-01,1\nreceipt,SKU-0000003,JHB-01,1.5.5\n"),
        ("unclosed.csv", "kind,sku,warehouse,quantity,unit_cost\nreceipt,SKU-0000003,JHB-01,1,2\nreceipt,SKU-0000003,JHB-01,5,\"12.50\n"),
        ("float.json", r#"[{"kind": "receipt", "sku": "SKU-0000003", "warehouse": "JHB-01", "quantity": 0.1, "unit_cost": "1"}]"#),
        ("batch.txt", "kind\n"),
        ("twice.json", r#"[{"kind": "receipt", "sku": "SKU-0000003", "warehouse": "JHB-01", "quantity": "1", "unit_cost": "1", "quantity": "1000"}]"#),
        ("nul.json", r#"[{"kind": "receipt", "sku": "SKU-0000003", "warehouse": "JHB-01", "quantity": "1", "unit_cost": "1", "notes": "a\u0000b"}]"#),
    ]);
    let before = count(&db, "core.stock_movement").await;
    let out = run(
        &db,
        &["stock", "post", &dir.file("good.csv").display().to_string()],
    )
    .expect_code(0);
    assert!(
        out.stdout.contains("5 movement(s) posted"),
        "{}",
        out.stdout
    );
    assert_eq!(count(&db, "core.stock_movement").await, before + 5);

    for (file, code, expected) in [
        ("short.json", 5, "insufficient stock"),
        ("broken.csv", 2, "malformed CSV batch, record 2"),
        ("unclosed.csv", 2, "a quoted field is never closed"),
        ("float.json", 2, "write it as a string"),
        ("batch.txt", 2, "must end in .csv or .json"),
        ("twice.json", 2, "field `quantity` is given twice"),
        ("nul.json", 2, "line 1: notes contains a NUL character"),
        ("missing.csv", 2, "cannot read batch file"),
    ] {
        let out = run(
            &db,
            &["stock", "post", &dir.file(file).display().to_string()],
        )
        .expect_code(code);
        assert!(out.stderr.contains(expected), "{file}: {}", out.stderr);
        assert_eq!(
            count(&db, "core.stock_movement").await,
            before + 5,
            "{file} posted something"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_show_the_views_in_table_json_and_csv_and_refresh_brings_them_up_to_date() {
    let db = books("cli_reports").await;
    let table = run(&db, &["report", "valuation"]).expect_code(0);
    assert!(
        table.stdout.starts_with("warehouse ") && table.stdout.contains("views last refreshed"),
        "{}",
        table.stdout
    );
    let value = |json: &serde_json::Value| -> f64 {
        json.as_array()
            .unwrap()
            .iter()
            .map(|r| r["value"].as_str().unwrap().parse::<f64>().unwrap())
            .sum()
    };
    let before = value(
        &run(&db, &["--format", "json", "report", "valuation"])
            .expect_code(0)
            .json(),
    );
    run(
        &db,
        &[
            "stock",
            "receive",
            "--sku",
            "SKU-0000004",
            "--warehouse",
            "JHB-01",
            "--quantity",
            "100",
            "--unit-cost",
            "1000",
        ],
    )
    .expect_code(0);
    assert_eq!(
        value(
            &run(&db, &["--format", "json", "report", "valuation"])
                .expect_code(0)
                .json()
        ),
        before,
        "views change only when refreshed"
    );

    let refreshed = run(&db, &["refresh"]).expect_code(0);
    for view in [
        "mv_inventory_valuation",
        "mv_product_stock_summary",
        "mv_low_stock_alerts",
    ] {
        assert!(
            refreshed
                .stdout
                .contains(&format!("core.{view} refreshed concurrently in")),
            "{}",
            refreshed.stdout
        );
    }
    let after = value(
        &run(&db, &["--format", "json", "report", "valuation"])
            .expect_code(0)
            .json(),
    );
    assert!(
        (after - before - 100_000.0).abs() < 0.01,
        "{before} -> {after}"
    );

    let csv = run(
        &db,
        &[
            "--format",
            "csv",
            "report",
            "low-stock",
            "--severity",
            "critical",
        ],
    )
    .expect_code(0);
    let mut lines = csv.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("sku,name,warehouse,quantity,min_stock_level,shortfall,severity,refreshed_at")
    );
    assert!(
        lines.all(|l| l.contains(",OUT_OF_STOCK,") || l.contains(",CRITICAL,")),
        "{}",
        csv.stdout
    );
    let summary = run(
        &db,
        &[
            "--format",
            "json",
            "report",
            "summary",
            "--filter",
            "SKU-000000",
            "--limit",
            "3",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(summary.as_array().unwrap().len(), 3);
    run(&db, &["--format", "csv", "status"]).expect_code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_survives_a_failing_view_and_stops_cleanly_on_ctrl_c() {
    let db = books("cli_refresh").await;
    db.client()
        .await
        .batch_execute("DROP INDEX core.idx_mv_product_stock_pk")
        .await
        .unwrap();
    let once = run(&db, &["refresh"]).expect_code(1);
    assert!(
        once.stdout
            .contains("core.mv_inventory_valuation refreshed concurrently"),
        "{}",
        once.stdout
    );
    assert!(
        once.stdout.contains("core.mv_product_stock_summary FAILED"),
        "{}",
        once.stdout
    );
    assert!(
        once.stdout
            .contains("core.mv_low_stock_alerts refreshed concurrently"),
        "the others went on: {}",
        once.stdout
    );
    assert!(
        once.stderr
            .contains("1 of 3 view(s) failed to refresh: mv_product_stock_summary"),
        "{}",
        once.stderr
    );

    let child = spawn(&db, &["refresh", "--every", "1s"]);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let stopped = finish(child).expect_code(0);
    assert!(
        stopped.stderr.contains("refresh: stopped (interrupted)"),
        "{}",
        stopped.stderr
    );
    let rounds = stopped
        .stdout
        .matches("core.mv_low_stock_alerts refreshed")
        .count();
    assert!(
        rounds >= 2,
        "a refresh every second for 2.5 s: {}",
        stopped.stdout
    );
    assert_eq!(
        rounds,
        stopped
            .stdout
            .matches("core.mv_product_stock_summary FAILED")
            .count(),
        "retried at each tick"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brands_and_supplier_contacts_are_kept_with_the_databases_rules() {
    let db = books("cli_catalog").await;
    let list = run(&db, &["--format", "json", "brand", "list"])
        .expect_code(0)
        .json();
    let brands = list.as_array().unwrap().len();
    run(
        &db,
        &[
            "brand",
            "add",
            "Mantis Own Label",
            "--website",
            "https://mantis.example",
        ],
    )
    .expect_code(0);
    let dup = run(&db, &["brand", "add", "mantis  own label"]).expect_code(5);
    assert!(
        dup.stderr.contains("idx_brand_name_unique") || dup.stderr.contains("already exists"),
        "{}",
        dup.stderr
    );
    let bosch = scalar(&db, "SELECT count(*) FROM core.products p JOIN core.brand b ON b.id = p.brand_id WHERE b.code = 'BOSCH'").await;
    let merged = run(&db, &["brand", "merge", "BOSCH", "MANTIS_OWN_LABEL"]).expect_code(0);
    assert!(
        merged.stdout.contains(&format!("{bosch} product(s) moved")),
        "{}",
        merged.stdout
    );
    assert_eq!(
        run(&db, &["--format", "json", "brand", "list"])
            .expect_code(0)
            .json()
            .as_array()
            .unwrap()
            .len(),
        brands
    );
    run(&db, &["brand", "merge", "NOPE", "MANTIS_OWN_LABEL"]).expect_code(2);
    // A value the database's rules refuse is invalid input (exit 2), named
    // in the field's words like a supplier's contact, not by its constraint.
    for (args, expected) in [
        (
            &["brand", "add", "Bad Site", "--website", "not a site"][..],
            "invalid website \"not a site\"",
        ),
        (
            &["brand", "add", "Bad Code", "--code", "bad code"],
            "invalid brand code \"bad code\"",
        ),
    ] {
        let refused = run(&db, args).expect_code(2);
        assert!(refused.stderr.contains(expected), "{}", refused.stderr);
        assert!(!refused.stderr.contains("_format"), "{}", refused.stderr);
    }
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM core.brand WHERE name LIKE 'Bad %'"
        )
        .await,
        "0"
    );

    let supplier = scalar(&db, "SELECT name FROM core.suppliers ORDER BY name LIMIT 1").await;
    let shown = run(&db, &["supplier", "contact", &supplier]).expect_code(0);
    assert!(
        shown.stdout.contains("email") && shown.stdout.contains("payment terms"),
        "{}",
        shown.stdout
    );
    let set = run(
        &db,
        &[
            "--format",
            "json",
            "supplier",
            "contact",
            &supplier,
            "--email",
            "Orders@Example.COM",
            "--payment-terms",
            "Net 45",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(set["contact_email"], "orders@example.com");
    assert_eq!(set["payment_terms"], "Net 45");
    let invalid = run(
        &db,
        &[
            "supplier",
            "contact",
            &supplier,
            "--email",
            "not-an-email",
            "--phone",
            "12",
        ],
    )
    .expect_code(2);
    assert!(
        invalid
            .stderr
            .contains("invalid email \"not-an-email\"; invalid phone \"12\" (nothing was changed)"),
        "{}",
        invalid.stderr
    );
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT contact_email FROM core.suppliers WHERE name = '{supplier}'")
        )
        .await,
        "orders@example.com"
    );
    run(&db, &["supplier", "contact", "No Such Supplier"]).expect_code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_commands_say_which_migration_they_need() {
    let db = TestDb::seeded("cli_stock_v3", &small_spec(), 3).await;
    let out = run(
        &db,
        &[
            "stock",
            "ship",
            "--sku",
            "SKU-0000001",
            "--warehouse",
            "JHB-01",
            "--quantity",
            "1",
        ],
    )
    .expect_code(5);
    assert!(out.stderr.contains("posting stock needs migration 006; the database is at version 003: run `mantis up` first"), "{}", out.stderr);
    run(&db, &["report", "valuation"]).expect_code(0);
}

/// A file longer than one chunk (1,000 lines) is still one transaction: a
/// bad line in the third chunk leaves nothing posted and is named by its
/// line in the file; the good file posts every line, with a summary (not a
/// line per movement) on stdout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_batch_file_is_posted_in_chunks_all_lines_or_none() {
    let db = books("cli_stock_stream").await;
    let lines = 2_500;
    let csv = |bad_line: Option<usize>| {
        let mut text = String::from("kind,sku,warehouse,quantity,unit_cost,reference,line\n");
        for i in 1..=lines {
            let quantity = if Some(i) == bad_line { "0" } else { "1" };
            text.push_str(&format!(
                "receipt,SKU-{:07},JHB-01,{quantity},2.50,PO-STREAM,{i}\n",
                1 + i % 40
            ));
        }
        text
    };
    let dir = Dir::with(&[("good.csv", &csv(None)), ("bad.csv", &csv(Some(2_345)))]);
    let before = count(&db, "core.stock_movement").await;
    let bad = run(
        &db,
        &["stock", "post", &dir.file("bad.csv").display().to_string()],
    )
    .expect_code(2);
    assert!(
        bad.stderr.contains("line 2345: quantity is 0"),
        "{}",
        bad.stderr
    );
    assert_eq!(
        count(&db, "core.stock_movement").await,
        before,
        "all or none"
    );

    let good = run(
        &db,
        &[
            "--format",
            "json",
            "stock",
            "post",
            &dir.file("good.csv").display().to_string(),
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(good["lines"], lines);
    assert_eq!(good["posted"], lines);
    assert_eq!(good["already_posted"], 0);
    assert_eq!(count(&db, "core.stock_movement").await, before + 2_500);
    let again = run(
        &db,
        &["stock", "post", &dir.file("good.csv").display().to_string()],
    )
    .expect_code(0);
    assert!(
        again
            .stdout
            .contains("0 movement(s) posted, 2500 already posted before"),
        "{}",
        again.stdout
    );
    assert_eq!(again.stdout.lines().count(), 1, "{}", again.stdout);
}

/// Negative values are read as values, without `=`: the tool's own check
/// answers (a negative cost is refused, a negative adjustment posts, a
/// negative limit is out of range), not the argument parser's "unexpected
/// argument '-5'".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_values_need_no_equals_sign() {
    let db = books("cli_negative_values").await;
    let line = [
        "--sku",
        "SKU-0000002",
        "--warehouse",
        "JHB-01",
        "--quantity",
    ];
    let mut receive = vec!["stock", "receive"];
    receive.extend(line);
    receive.extend(["1", "--unit-cost", "-5"]);
    let out = run(&db, &receive).expect_code(2);
    assert!(
        out.stderr.contains("unit cost -5 is negative"),
        "{}",
        out.stderr
    );
    let mut adjust = vec!["stock", "adjust"];
    adjust.extend(line);
    adjust.push("-1");
    run(&db, &adjust).expect_code(0);
    let out = run(&db, &["report", "summary", "--limit", "-1"]).expect_code(2);
    assert!(out.stderr.contains("-1 is not in 1.."), "{}", out.stderr);
}
