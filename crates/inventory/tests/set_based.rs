#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! The two ways the ledger's rules are applied agree: a batch on several
//! stock rows posted set-based (`core.post_movements`, migration 005) ends
//! with the same books, movement by movement, as the same lines inserted one
//! by one through the row trigger (migration 004) in one transaction; and a
//! batch one refuses, the other refuses with the same rule.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use mantis_inventory::{post, Kind, Posting};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;
use support::{books, broken_invariants, WAREHOUSES};
use tokio_postgres::Client;
use uuid::Uuid;

/// Products per case: each case posts on two fresh ones per path.
const PRODUCTS: usize = 2;

#[derive(Debug, Clone)]
struct Line {
    kind: Kind,
    product: usize,
    wh: usize,
    to: usize,
    qty: Decimal,
    cost: Option<Decimal>,
}

fn line() -> impl Strategy<Value = Line> {
    let kinds = prop_oneof![
        3 => Just(Kind::Receipt),
        2 => Just(Kind::Shipment),
        1 => Just(Kind::Adjustment),
        1 => Just(Kind::Transfer),
        1 => Just(Kind::Return),
        1 => Just(Kind::WriteOff),
    ];
    (
        kinds,
        0..PRODUCTS,
        0..WAREHOUSES.len(),
        1..WAREHOUSES.len(),
        (1_i64..=2_000, 0_u32..=2).prop_map(|(n, s)| Decimal::new(n, s)),
        proptest::option::weighted(
            0.8,
            (0_i64..=500_000, 0_u32..=4).prop_map(|(n, s)| Decimal::new(n, s)),
        ),
        any::<bool>(),
    )
        .prop_map(|(kind, product, wh, shift, qty, cost, negative)| {
            let inbound = matches!(kind, Kind::Receipt | Kind::Return)
                || (kind == Kind::Adjustment && !negative);
            Line {
                kind,
                product,
                wh,
                to: (wh + shift) % WAREHOUSES.len(),
                qty: if kind == Kind::Adjustment && negative {
                    -qty
                } else {
                    qty
                },
                cost: if kind == Kind::Receipt {
                    cost.or(Some(Decimal::ONE))
                } else if inbound {
                    cost
                } else {
                    None
                },
            }
        })
}

impl Line {
    fn posting(&self, skus: &[String]) -> Posting {
        let p = Posting::new(
            self.kind,
            &skus[self.product],
            WAREHOUSES[self.wh],
            self.qty,
        );
        let p = match self.cost {
            Some(c) => p.at(c),
            None => p,
        };
        if self.kind == Kind::Transfer {
            p.to(WAREHOUSES[self.to])
        } else {
            p
        }
    }

    /// The movement rows a client inserting by hand writes:
    /// (movement type, warehouse, signed quantity, cost, transfer reference).
    fn rows(&self) -> Vec<(&'static str, usize, Decimal, Option<Decimal>, bool)> {
        match self.kind {
            Kind::Receipt => vec![("RECEIPT", self.wh, self.qty, self.cost, false)],
            Kind::Return => vec![("RETURN", self.wh, self.qty, self.cost, false)],
            Kind::Adjustment => vec![("ADJUSTMENT", self.wh, self.qty, self.cost, false)],
            Kind::Shipment => vec![("SHIPMENT", self.wh, -self.qty, None, false)],
            Kind::WriteOff => vec![("DAMAGED", self.wh, -self.qty, None, false)],
            Kind::Transfer => vec![
                ("TRANSFER", self.wh, -self.qty, None, true),
                ("TRANSFER", self.to, self.qty, None, true),
            ],
            other => unreachable!("not generated: {other:?}"),
        }
    }
}

static CASE: AtomicUsize = AtomicUsize::new(0);

/// Fresh SKUs for one path of one case.
async fn fresh_products(client: &Client, path: &str) -> Vec<String> {
    let case = CASE.fetch_add(1, Ordering::Relaxed);
    let skus: Vec<String> = (0..PRODUCTS)
        .map(|i| format!("SB-{path}-{case}-{i}"))
        .collect();
    for sku in &skus {
        client
            .execute(
                "INSERT INTO core.products (sku, name) VALUES ($1, $1)",
                &[sku],
            )
            .await
            .unwrap();
    }
    skus
}

/// The lines inserted one by one through the row trigger, in one transaction.
/// The rule that refused them, if one did.
async fn insert_by_hand(client: &Client, lines: &[Line], skus: &[String]) -> Option<String> {
    let mut sql = String::from("BEGIN;\n");
    for l in lines {
        let reference = Uuid::new_v4();
        for (kind, wh, qty, cost, transfer) in l.rows() {
            let cost = cost.map_or("NULL".to_string(), |c| c.to_string());
            let (ref_type, ref_id) = if transfer {
                ("'TRANSFER_ORDER'".to_string(), format!("'{reference}'"))
            } else {
                ("NULL".to_string(), "NULL".to_string())
            };
            sql.push_str(&format!(
                "INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price, reference_type, reference_id)
                 SELECT p.id, w.id, '{kind}', {qty}, {cost}, {ref_type}, {ref_id}
                 FROM core.products p, core.warehouses w WHERE p.sku = '{}' AND w.code = '{}';\n",
                skus[l.product], WAREHOUSES[wh]
            ));
        }
    }
    sql.push_str("COMMIT;");
    match client.batch_execute(&sql).await {
        Ok(()) => None,
        Err(e) => {
            client.batch_execute("ROLLBACK").await.unwrap();
            Some(
                e.as_db_error()
                    .and_then(|d| d.constraint())
                    .unwrap_or("unnamed")
                    .to_string(),
            )
        }
    }
}

/// The books of some products, in a form both paths share: per stock row
/// (product index, warehouse, quantity, cost, value, cost source), then each
/// movement in seq order (product index, warehouse, type, quantity, cost,
/// value change).
async fn books_of(client: &Client, skus: &[String]) -> (Vec<String>, Vec<String>) {
    let index = |sku: &str| skus.iter().position(|s| s == sku).unwrap();
    let stock = client
        .query(
            "SELECT p.sku, w.code, s.quantity::text, s.cost_price::text, s.total_value::text, s.cost_source
             FROM core.stock_on_hand s JOIN core.products p ON p.id = s.product_id
             JOIN core.warehouses w ON w.id = s.warehouse_id
             WHERE p.sku = ANY ($1) ORDER BY p.sku, w.code",
            &[&skus],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {:?} {:?} {:?} {:?}",
                index(r.get(0)),
                r.get::<_, String>(1),
                r.get::<_, Option<String>>(2),
                r.get::<_, Option<String>>(3),
                r.get::<_, Option<String>>(4),
                r.get::<_, Option<String>>(5)
            )
        })
        .collect();
    let movements = client
        .query(
            "SELECT p.sku, w.code, m.movement_type::text, m.quantity::text, m.cost_price::text, m.value_delta::text
             FROM core.stock_movement m JOIN core.products p ON p.id = m.product_id
             JOIN core.warehouses w ON w.id = m.warehouse_id
             WHERE p.sku = ANY ($1) ORDER BY m.seq",
            &[&skus],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {:?} {:?} {:?}",
                index(r.get(0)),
                r.get::<_, String>(1),
                r.get::<_, String>(2),
                r.get::<_, Option<String>>(3),
                r.get::<_, Option<String>>(4),
                r.get::<_, Option<String>>(5)
            )
        })
        .collect();
    (stock, movements)
}

#[test]
fn a_batch_posted_set_based_ends_where_the_row_trigger_ends() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(books("set_based_agrees", 0));
    let client = runtime.block_on(db.client());
    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..Config::default()
    });
    let (accepted, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    runner
        .run(&proptest::collection::vec(line(), 2..24), |lines| {
            runtime.block_on(async {
                let set_skus = fresh_products(&client, "set").await;
                let row_skus = fresh_products(&client, "row").await;
                let postings: Vec<Posting> = lines.iter().map(|l| l.posting(&set_skus)).collect();
                let set = post(&client, &postings).await;
                let row = insert_by_hand(&client, &lines, &row_skus).await;
                match (&set, &row) {
                    (Ok(_), None) => {
                        accepted.fetch_add(1, Ordering::Relaxed);
                        let a = books_of(&client, &set_skus).await;
                        let b = books_of(&client, &row_skus).await;
                        prop_assert_eq!(a, b);
                    }
                    (Err(e), Some(rule)) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                        prop_assert_eq!(e.rule(), Some(rule.as_str()), "{}", e);
                    }
                    _ => {
                        return Err(TestCaseError::fail(format!(
                            "set-based: {set:?}, row by row: {row:?}"
                        )))
                    }
                }
                Ok(())
            })
        })
        .unwrap();
    let (accepted, refused) = (accepted.into_inner(), refused.into_inner());
    assert!(
        accepted > 0 && refused > 0,
        "accepted {accepted}, refused {refused}: both must be exercised"
    );
    assert!(runtime.block_on(broken_invariants(&client)).is_empty());
}
