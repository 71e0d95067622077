#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! The ledger's rules, through the posting API and through plain SQL (the
//! rules live in the database, so every client gets them).

mod support;

use mantis_inventory::{post, Kind, Posting, PostingError};
use rust_decimal::Decimal;
use support::{books, broken_invariants, count, stock};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn line(kind: Kind, sku: &str, warehouse: &str, quantity: &str) -> Posting {
    Posting::new(kind, sku, warehouse, d(quantity))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_movement_follows_the_average_cost_rule() {
    let db = books("posting_kinds", 2).await;
    let c = db.client().await;
    let posted = post(
        &c,
        &[
            line(Kind::Receipt, "SKU-1", "JHB", "10").at(d("4")),
            line(Kind::Receipt, "SKU-1", "CPT", "10").at(d("8")),
            line(Kind::Transfer, "SKU-1", "JHB", "5").to("CPT"),
            line(Kind::Shipment, "SKU-1", "CPT", "3"),
            line(Kind::Return, "SKU-1", "CPT", "1").at(d("9")),
            line(Kind::Return, "SKU-1", "JHB", "1"),
            line(Kind::SupplierReturn, "SKU-1", "JHB", "2"),
            line(Kind::WriteOff, "SKU-1", "JHB", "1"),
            line(Kind::Theft, "SKU-1", "JHB", "1"),
            line(Kind::Adjustment, "SKU-1", "JHB", "-0.5"),
            line(Kind::Adjustment, "SKU-1", "JHB", "2.5").at(d("6")),
        ],
    )
    .await
    .unwrap();
    assert_eq!(posted.len(), 12, "a transfer is two movements");
    let transfer: Vec<_> = posted
        .iter()
        .filter(|p| p.movement_type == mantis_inventory::kinds::MovementType::Transfer)
        .collect();
    assert_eq!(transfer[0].quantity, d("-5"));
    assert_eq!(
        transfer[0].unit_cost,
        Some(d("4")),
        "out at the sender's average"
    );
    assert_eq!(
        transfer[1].unit_cost,
        Some(d("4")),
        "in at the sender's average"
    );
    // CPT: 10 @ 8, +5 @ 4 -> 6.666667; -3; +1 @ 9.
    let cpt_after_transfer = d("6.666667");
    let cpt_after_return = ((d("12") * cpt_after_transfer + d("9")) / d("13")).round_dp(6);
    assert_eq!(
        stock(&c, "SKU-1", "CPT").await.unwrap().1,
        Some(cpt_after_return)
    );
    // JHB: 10 @ 4, -5, +1 (no cost: at the average), -2, -1, -1, -0.5, +2.5 @ 6.
    let jhb = stock(&c, "SKU-1", "JHB").await.unwrap();
    assert_eq!(jhb.0, d("4"));
    assert_eq!(
        jhb.1,
        Some(((d("1.5") * d("4") + d("2.5") * d("6")) / d("4")).round_dp(6))
    );
    assert_eq!(
        posted
            .iter()
            .map(|p| p.movement_type.label())
            .collect::<Vec<_>>(),
        [
            "RECEIPT",
            "RECEIPT",
            "TRANSFER",
            "TRANSFER",
            "SHIPMENT",
            "RETURN",
            "RETURN",
            "RETURN",
            "DAMAGED",
            "THEFT",
            "ADJUSTMENT",
            "ADJUSTMENT"
        ]
    );
    assert!(posted.iter().all(|p| p.applied && p.seq.is_some()));
    assert_eq!(broken_invariants(&c).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_stock_is_refused_with_a_clear_error_unless_the_warehouse_allows_it() {
    let db = books("posting_negative", 1).await;
    let c = db.client().await;
    post(&c, &[line(Kind::Receipt, "SKU-1", "JHB", "3").at(d("2"))])
        .await
        .unwrap();
    let err = post(
        &c,
        &[
            line(Kind::Receipt, "SKU-1", "JHB", "1").at(d("2")),
            line(Kind::Shipment, "SKU-1", "JHB", "5"),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(err.rule(), Some("stock_not_negative"));
    let text = err.to_string();
    assert!(
        text.contains("insufficient stock: 4 on hand of product SKU-1 in warehouse JHB; taking 5 would leave -1")
            && text.contains("hint: post the receipt first"),
        "{text}"
    );
    assert_eq!(
        stock(&c, "SKU-1", "JHB").await.unwrap().0,
        d("3"),
        "the whole batch was refused"
    );
    assert_eq!(count(&c, "core.stock_movement").await, 1);

    let posted = post(&c, &[line(Kind::Shipment, "SKU-1", "NEG", "2")])
        .await
        .unwrap();
    assert_eq!(posted[0].quantity, d("-2"));
    post(&c, &[line(Kind::Receipt, "SKU-1", "NEG", "5").at(d("3"))])
        .await
        .unwrap();
    assert_eq!(
        stock(&c, "SKU-1", "NEG").await.unwrap(),
        (d("3"), Some(d("3")), Some(d("9"))),
        "a receipt into negative stock takes the incoming cost"
    );
    assert_eq!(broken_invariants(&c).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_line_posted_twice_is_applied_once() {
    let db = books("posting_idempotent", 1).await;
    let c = db.client().await;
    let batch = [
        line(Kind::Receipt, "SKU-1", "JHB", "10")
            .at(d("5"))
            .reference("PO-9", Some(1)),
        line(Kind::Transfer, "SKU-1", "JHB", "4")
            .to("CPT")
            .reference("TO-9", Some(1)),
    ];
    let first = post(&c, &batch).await.unwrap();
    assert!(first.iter().all(|p| p.applied));
    let again = post(&c, &batch).await.unwrap();
    assert!(again.iter().all(|p| !p.applied), "{again:?}");
    assert_eq!(count(&c, "core.stock_movement").await, 3);
    assert_eq!(stock(&c, "SKU-1", "JHB").await.unwrap().0, d("6"));
    assert_eq!(stock(&c, "SKU-1", "CPT").await.unwrap().0, d("4"));

    let other = post(
        &c,
        &[line(Kind::Receipt, "SKU-1", "JHB", "11")
            .at(d("5"))
            .reference("PO-9", Some(1))],
    )
    .await
    .unwrap_err();
    assert_eq!(
        other.rule(),
        Some("stock_movement_idempotency_key"),
        "{other}"
    );
    assert!(
        other.to_string().contains("was already used by movement"),
        "{other}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn movements_are_append_only_and_the_audit_trail_cannot_be_deleted() {
    let db = books("posting_append_only", 1).await;
    let c = db.client().await;
    post(&c, &[line(Kind::Receipt, "SKU-1", "JHB", "1").at(d("1"))])
        .await
        .unwrap();
    for statement in [
        "UPDATE core.stock_movement SET quantity = 2",
        "DELETE FROM core.stock_movement",
        "TRUNCATE core.stock_movement",
        "DELETE FROM core.products WHERE sku = 'SKU-1'",
    ] {
        let err = c.batch_execute(statement).await.unwrap_err();
        let db_err = err.as_db_error().unwrap();
        assert_eq!(db_err.code().code(), "23001", "{statement}: {db_err:?}");
        assert!(
            db_err.message().contains("append-only"),
            "{statement}: {}",
            db_err.message()
        );
    }
    assert_eq!(count(&c, "core.stock_movement").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_writes_to_stock_are_recorded_and_direct_cost_changes_refused() {
    let db = books("posting_direct", 2).await;
    let c = db.client().await;
    post(&c, &[line(Kind::Receipt, "SKU-1", "JHB", "10").at(d("2"))])
        .await
        .unwrap();
    // Legacy code writing quantities straight into stock_on_hand.
    c.batch_execute(
        "UPDATE core.stock_on_hand SET quantity = 7 WHERE quantity = 10;
         INSERT INTO core.stock_on_hand (product_id, warehouse_id, quantity)
         SELECT p.id, w.id, 4 FROM core.products p, core.warehouses w WHERE p.sku = 'SKU-2' AND w.code = 'CPT';",
    )
    .await
    .unwrap();
    let captured: Vec<(Decimal, Option<Decimal>, String)> = c
        .query(
            "SELECT quantity, value_delta, metadata->>'captured' FROM core.stock_movement
             WHERE reference_number = 'DIRECT-WRITE' ORDER BY seq",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        captured,
        vec![
            (d("-3"), Some(d("-6")), "update".into()),
            (d("4"), None, "insert".into())
        ]
    );
    let cost = c
        .batch_execute("UPDATE core.stock_on_hand SET cost_price = 99")
        .await
        .unwrap_err();
    assert!(
        cost.as_db_error()
            .unwrap()
            .message()
            .contains("kept by the ledger"),
        "{cost:?}"
    );
    let negative = c
        .batch_execute("UPDATE core.stock_on_hand SET quantity = -1 WHERE quantity = 7")
        .await
        .unwrap_err();
    assert_eq!(
        negative.as_db_error().unwrap().constraint(),
        Some("stock_not_negative")
    );
    c.batch_execute("DELETE FROM core.stock_on_hand WHERE quantity = 4")
        .await
        .unwrap();
    assert_eq!(
        count(
            &c,
            "core.stock_movement WHERE metadata->>'captured' = 'delete'"
        )
        .await,
        1
    );
    assert_eq!(broken_invariants(&c).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_posts_nothing() {
    let db = books("posting_bad_input", 1).await;
    let c = db.client().await;
    let good = line(Kind::Receipt, "SKU-1", "JHB", "1").at(d("1"));
    let cases: Vec<(Posting, &str)> = vec![
        (
            line(Kind::Receipt, "NOPE", "JHB", "1"),
            "line 2: unknown product SKU \"NOPE\"",
        ),
        (
            line(Kind::Receipt, "SKU-1", "XXX", "1"),
            "line 2: unknown warehouse \"XXX\"",
        ),
        (
            line(Kind::Transfer, "SKU-1", "JHB", "1").to("XXX"),
            "line 2: unknown warehouse \"XXX\"",
        ),
        (
            line(Kind::Receipt, "SKU-1", "JHB", "0"),
            "line 2: quantity is 0",
        ),
        (
            line(Kind::Receipt, "SKU-1", "JHB", "1").at(d("-1")),
            "line 2: unit cost -1 is negative",
        ),
        (
            line(Kind::Receipt, "SKU-1", "JHB", "100000000000000"),
            "too large",
        ),
        (
            line(Kind::Receipt, "SKU-1", "JHB", "1.00001"),
            "decimal places",
        ),
        (
            line(Kind::Shipment, "SKU-1", "JHB", "5"),
            "insufficient stock",
        ),
        (
            line(Kind::Receipt, "SKU-1", "JHB", "99999999999999").at(d("1")),
            "does not fit its column",
        ),
    ];
    for (bad, expected) in cases {
        let err = post(&c, &[good.clone(), bad.clone(), good.clone(), good.clone()])
            .await
            .unwrap_err();
        assert!(err.to_string().contains(expected), "{bad:?}: {err}");
        assert_eq!(
            count(&c, "core.stock_movement").await,
            0,
            "{bad:?} posted something"
        );
        assert_eq!(count(&c, "core.stock_on_hand WHERE quantity <> 0").await, 0);
    }
    assert!(matches!(post(&c, &[]).await, Err(PostingError::Empty)));

    // The same rules for plain SQL clients.
    for (statement, expected) in [
        ("INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity)
          SELECT p.id, w.id, 'TELEPORT', 1 FROM core.products p, core.warehouses w LIMIT 1",
         "invalid input value for enum core.movement_type"),
        ("INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity)
          SELECT p.id, w.id, 'RECEIPT', -1 FROM core.products p, core.warehouses w LIMIT 1",
         "a RECEIPT brings stock in"),
        ("INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity)
          SELECT p.id, w.id, 'TRANSFER', 1 FROM core.products p, core.warehouses w LIMIT 1",
         "a TRANSFER needs a reference_id"),
        ("INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity)
          SELECT gen_random_uuid(), w.id, 'RECEIPT', 1 FROM core.warehouses w LIMIT 1",
         "unknown product"),
        ("BEGIN; INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, reference_type, reference_id)
          SELECT p.id, w.id, 'TRANSFER', -1, 'TRANSFER_ORDER', gen_random_uuid()
          FROM core.products p, core.warehouses w WHERE w.code = 'NEG'; COMMIT",
         "does not balance"),
    ] {
        let err = c.batch_execute(statement).await.unwrap_err();
        let message = err.as_db_error().map(|e| e.message().to_string()).unwrap_or_default();
        assert!(message.contains(expected), "{statement}: {message}");
        c.batch_execute("ROLLBACK").await.ok();
    }
    assert_eq!(count(&c, "core.stock_movement").await, 0);
}
