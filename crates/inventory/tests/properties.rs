#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! Property tests of the ledger: random sequences of movements, posted
//! through the database's rules, agree with the pure reference fold
//! (`mantis_inventory::reference`), keep the books' invariants, and 8
//! connections posting at once end where a serial replay in commit order ends.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use mantis_inventory::models::{Model, StockMovement, StockOnHand};
use mantis_inventory::reference::{Applied, Stock};
use mantis_inventory::{post, Kind, Posting};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;
use support::{books, broken_invariants, stock, WAREHOUSES};
use uuid::Uuid;

/// The stated tolerance of the value invariant: a receipt into costed stock
/// books its value within half a unit of the sixth decimal place per unit
/// held afterwards (the rounding of the new average); everything else is exact.
fn tolerance(quantity_after: Decimal) -> Decimal {
    Decimal::new(5, 7) * quantity_after.abs()
}

#[derive(Debug, Clone)]
enum Op {
    In {
        kind: Kind,
        wh: usize,
        qty: Decimal,
        cost: Option<Decimal>,
    },
    Out {
        kind: Kind,
        wh: usize,
        qty: Decimal,
    },
    Transfer {
        from: usize,
        to: usize,
        qty: Decimal,
    },
}

fn quantity() -> impl Strategy<Value = Decimal> {
    (1_i64..=20_000, 0_u32..=4).prop_map(|(n, scale)| Decimal::new(n, scale))
}

fn cost() -> impl Strategy<Value = Decimal> {
    (0_i64..=5_000_000, 0_u32..=6).prop_map(|(n, scale)| Decimal::new(n, scale))
}

fn op() -> impl Strategy<Value = Op> {
    let wh = 0..WAREHOUSES.len();
    prop_oneof![
        3 => (prop_oneof![Just(Kind::Receipt), Just(Kind::Return), Just(Kind::Adjustment)], wh.clone(), quantity(), proptest::option::weighted(0.9, cost()))
            .prop_map(|(kind, wh, qty, cost)| Op::In { kind, wh, qty, cost: if kind == Kind::Receipt { cost.or(Some(Decimal::ONE)) } else { cost } }),
        2 => (prop_oneof![Just(Kind::Shipment), Just(Kind::WriteOff), Just(Kind::SupplierReturn), Just(Kind::Adjustment)], wh.clone(), quantity())
            .prop_map(|(kind, wh, qty)| Op::Out { kind, wh, qty }),
        1 => (wh.clone(), wh, quantity())
            .prop_filter("a transfer needs two warehouses", |(a, b, _)| a != b)
            .prop_map(|(from, to, qty)| Op::Transfer { from, to, qty }),
    ]
}

impl Op {
    fn posting(&self, sku: &str) -> Posting {
        match self {
            Op::In {
                kind,
                wh,
                qty,
                cost,
            } => {
                let p = Posting::new(*kind, sku, WAREHOUSES[*wh], *qty);
                match cost {
                    Some(c) => p.at(*c),
                    None => p,
                }
            }
            Op::Out { kind, wh, qty } => {
                let q = if *kind == Kind::Adjustment {
                    -*qty
                } else {
                    *qty
                };
                Posting::new(*kind, sku, WAREHOUSES[*wh], q)
            }
            Op::Transfer { from, to, qty } => {
                Posting::new(Kind::Transfer, sku, WAREHOUSES[*from], *qty).to(WAREHOUSES[*to])
            }
        }
    }

    /// The movements the op makes: (warehouse, signed quantity, cost given).
    fn legs(&self) -> Vec<(usize, Decimal, Option<Decimal>)> {
        match self {
            Op::In { wh, qty, cost, .. } => vec![(*wh, *qty, *cost)],
            Op::Out { wh, qty, .. } => vec![(*wh, -*qty, None)],
            Op::Transfer { from, to, qty } => vec![(*from, -*qty, None), (*to, *qty, None)],
        }
    }
}

/// Applies an op to the reference books; None when the database must refuse it.
fn fold(books: &mut HashMap<usize, Stock>, op: &Op) -> Option<Vec<(Applied, Decimal, bool)>> {
    let mut trial = books.clone();
    let mut applied = Vec::new();
    let mut sender_cost = None;
    for (wh, qty, cost) in op.legs() {
        let allow = WAREHOUSES[wh] == "NEG";
        let row = trial.entry(wh).or_default();
        let before = *row;
        let cost = if matches!(op, Op::Transfer { .. }) && qty > Decimal::ZERO {
            sender_cost
        } else {
            cost
        };
        let a = row.apply(qty, cost, allow)?;
        sender_cost = a.unit_cost;
        // The tolerance holds for issues, and for receipts into empty stock or
        // costed positive stock. A receipt into negative stock (or into stock
        // that had no cost) also revalues what was there: its value_delta
        // carries that true-up, so it is exact by the fold only.
        let exact = qty < Decimal::ZERO
            || before.quantity.is_zero()
            || (before.quantity > Decimal::ZERO && before.cost.is_some());
        applied.push((a, row.quantity, exact && a.unit_cost.is_some()));
    }
    *books = trial;
    Some(applied)
}

static PRODUCT: AtomicUsize = AtomicUsize::new(0);

#[test]
fn random_movements_agree_with_the_reference_and_keep_the_books() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(books("ledger_properties", 0));
    let client = rt.block_on(db.client());
    let mut runner = TestRunner::new(Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&proptest::collection::vec(op(), 1..30), |ops| {
        rt.block_on(async {
            let sku = format!("PROP-{}", PRODUCT.fetch_add(1, Ordering::Relaxed));
            client
                .execute(
                    "INSERT INTO core.products (sku, name) VALUES ($1, $1)",
                    &[&sku],
                )
                .await
                .unwrap();
            let mut reference: HashMap<usize, Stock> = HashMap::new();
            for op in &ops {
                let expected = fold(&mut reference, op);
                let posted = post(&client, &[op.posting(&sku)]).await;
                match (expected, posted) {
                    (None, Err(e)) => {
                        prop_assert_eq!(e.rule(), Some("stock_not_negative"), "{:?}", op)
                    }
                    (None, Ok(p)) => {
                        return Err(TestCaseError::fail(format!("{op:?} was accepted: {p:?}")))
                    }
                    (Some(_), Err(e)) => {
                        return Err(TestCaseError::fail(format!("{op:?} was refused: {e}")))
                    }
                    (Some(legs), Ok(posted)) => {
                        prop_assert_eq!(posted.len(), legs.len());
                        for ((applied, after, exact), p) in legs.iter().zip(&posted) {
                            prop_assert_eq!(
                                p.unit_cost,
                                applied.unit_cost,
                                "unit cost of {:?}",
                                op
                            );
                            prop_assert_eq!(
                                p.value_delta,
                                applied.value_delta,
                                "value of {:?}",
                                op
                            );
                            if let (true, Some(cost), Some(value)) =
                                (exact, p.unit_cost, p.value_delta)
                            {
                                let booked = p.quantity * cost;
                                prop_assert!(
                                    (value - booked).abs() <= tolerance(*after),
                                    "{:?}: value {} vs quantity × cost {} beyond the tolerance",
                                    op,
                                    value,
                                    booked
                                );
                            }
                        }
                    }
                }
            }
            for (wh, expected) in &reference {
                let found = stock(&client, &sku, WAREHOUSES[*wh]).await.unwrap();
                prop_assert_eq!(
                    found,
                    (expected.quantity, expected.cost, expected.value()),
                    "{}",
                    WAREHOUSES[*wh]
                );
                if expected.quantity.is_zero() {
                    prop_assert!(
                        found.2.unwrap_or_default().is_zero(),
                        "zero quantity, value {:?}",
                        found.2
                    );
                }
            }
            let broken = broken_invariants(&client).await;
            prop_assert!(broken.is_empty(), "{:?}", broken);
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A small deterministic generator, so each task's movements are reproducible.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn random_posting(rng: &mut Lcg) -> Posting {
    let sku = ["SKU-1", "SKU-2"][rng.next(2) as usize];
    let wh = ["JHB", "CPT"][rng.next(2) as usize];
    let qty = Decimal::new(1 + rng.next(4000) as i64, 2);
    match rng.next(3) {
        0 => Posting::new(Kind::Receipt, sku, wh, qty)
            .at(Decimal::new(1 + rng.next(100_000) as i64, 3)),
        1 => Posting::new(Kind::Shipment, sku, wh, qty),
        _ => Posting::new(Kind::Transfer, sku, wh, qty).to(if wh == "JHB" { "CPT" } else { "JHB" }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_connections_posting_at_once_end_where_a_serial_replay_ends() {
    let db = books("ledger_concurrent", 2).await;
    let c = db.client().await;
    let opening: Vec<Posting> = ["SKU-1", "SKU-2"]
        .iter()
        .flat_map(|sku| {
            ["JHB", "CPT"]
                .map(|wh| Posting::new(Kind::Receipt, sku, wh, Decimal::from(200)).at(Decimal::TEN))
        })
        .collect();
    post(&c, &opening).await.unwrap();

    let tasks: Vec<_> = (0..8_u64)
        .map(|task| {
            let db_url = db.options();
            tokio::spawn(async move {
                let client = mantis_testkit::connect(&db_url).await;
                let mut rng = Lcg(task + 1);
                let (mut accepted, mut refused) = (0, 0);
                for _ in 0..40 {
                    match post(&client, &[random_posting(&mut rng)]).await {
                        Ok(_) => accepted += 1,
                        Err(e) if e.rule() == Some("stock_not_negative") => refused += 1,
                        Err(e) => panic!("task {task}: {e}"),
                    }
                }
                (accepted, refused)
            })
        })
        .collect();
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap().0;
    }
    assert!(
        accepted > 200,
        "only {accepted} of 320 postings were accepted"
    );

    // The committed movements, in the order they were applied.
    let movements: Vec<StockMovement> = c
        .query(&format!("{} ORDER BY seq", StockMovement::select()), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| StockMovement::from_row(r).unwrap())
        .collect();

    // Serial replay through the reference fold: every movement valued alike.
    let mut reference: HashMap<(Uuid, Uuid), Stock> = HashMap::new();
    for m in &movements {
        let given = if m.quantity > Decimal::ZERO {
            m.cost_price
        } else {
            None
        };
        let applied = reference
            .entry((m.product_id, m.warehouse_id))
            .or_default()
            .apply(m.quantity, given, false)
            .unwrap_or_else(|| panic!("{m:?} would be refused serially"));
        assert_eq!(
            (applied.unit_cost, applied.value_delta),
            (m.cost_price, m.value_delta),
            "{m:?}"
        );
    }
    let live = stock_rows(&c).await;
    assert_eq!(live.len(), reference.len());
    for s in &live {
        let expected = reference[&(s.product_id, s.warehouse_id)];
        assert_eq!(
            (s.quantity, s.cost_price, s.total_value),
            (expected.quantity, expected.cost, expected.value())
        );
    }

    // Serial replay through the database: one connection, the same movements
    // in commit order, into a fresh copy of the catalogue.
    let replay = books("ledger_replay", 2).await;
    let r = replay.client().await;
    let skus = names_of(&c, "SELECT id, sku FROM core.products").await;
    let codes = names_of(&c, "SELECT id, code FROM core.warehouses").await;
    let serial: Vec<Posting> = movements
        .iter()
        .map(|m| {
            let p = Posting::new(
                Kind::Adjustment,
                &skus[&m.product_id],
                &codes[&m.warehouse_id],
                m.quantity,
            );
            match m.cost_price {
                Some(cost) if m.quantity > Decimal::ZERO => p.at(cost),
                _ => p,
            }
        })
        .collect();
    post(&r, &serial).await.unwrap();
    let by_name =
        |rows: Vec<StockOnHand>, skus: &HashMap<Uuid, String>, codes: &HashMap<Uuid, String>| {
            let mut out: Vec<_> = rows
                .into_iter()
                .map(|s| {
                    (
                        skus[&s.product_id].clone(),
                        codes[&s.warehouse_id].clone(),
                        s.quantity,
                        s.cost_price,
                        s.total_value,
                    )
                })
                .collect();
            out.sort();
            out
        };
    let replay_skus = names_of(&r, "SELECT id, sku FROM core.products").await;
    let replay_codes = names_of(&r, "SELECT id, code FROM core.warehouses").await;
    assert_eq!(
        by_name(live, &skus, &codes),
        by_name(stock_rows(&r).await, &replay_skus, &replay_codes)
    );
    assert_eq!(broken_invariants(&c).await, Vec::<String>::new());
}

async fn stock_rows(client: &tokio_postgres::Client) -> Vec<StockOnHand> {
    client
        .query(&StockOnHand::select(), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| StockOnHand::from_row(r).unwrap())
        .collect()
}

async fn names_of(client: &tokio_postgres::Client, query: &str) -> HashMap<Uuid, String> {
    client
        .query(query, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}
