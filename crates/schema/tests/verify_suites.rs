#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! Every check of the verify suites of 003 and 004 can fail: for each one, a
//! way to break a migrated database that this check (by name) must catch. A
//! check added to a suite without a case here fails the test.

use std::collections::BTreeSet;

use mantis_migrate::verify::{self, Suite, VerifyOptions};
use mantis_testkit::{Spec, TestDb};

/// Creates the role `<database>_app` with `$1`-style grants: the roles of a
/// case are named after its database (roles belong to the whole server), and
/// [`drop_case_roles`] drops them.
macro_rules! case_role {
    ($grants:literal) => {
        concat!(
            "DO $$ BEGIN EXECUTE format('CREATE ROLE %I NOLOGIN', current_database() || '_app'); \
             EXECUTE format('GRANT USAGE ON SCHEMA core TO %I', current_database() || '_app'); \
             EXECUTE format('",
            $grants,
            " TO %I', current_database() || '_app'); END $$"
        )
    };
}

/// (check name, SQL that breaks what it checks).
const CASES_003: &[(&str, &str)] = &[
    (
        "roles that could read or write a table before 003 can do the same with what 003 adds beside it (ADR-029)",
        case_role!("GRANT SELECT ON core.stock_on_hand"),
    ),
    (
        "only the owner may change or remove a movement, and only writers of stock may post one",
        case_role!("GRANT SELECT, DELETE ON core.stock_movement"),
    ),
    ("PUBLIC has no privilege on what 003 adds", "GRANT SELECT ON core.brand TO PUBLIC"),
    ("new tables exist", "DROP TABLE core.product_brand_issue"),
    ("enums have exactly the expected labels", "ALTER TYPE core.movement_type ADD VALUE 'LOST'"),
    ("new columns exist with their types", "ALTER TABLE core.suppliers ALTER COLUMN website TYPE varchar(200)"),
    (
        "foreign keys have the ON DELETE rules of ADR-024",
        "ALTER TABLE core.products DROP CONSTRAINT products_brand_id_fkey; \
         ALTER TABLE core.products ADD CONSTRAINT products_brand_id_fkey FOREIGN KEY (brand_id) REFERENCES core.brand (id)",
    ),
    ("constraints exist under their names and are validated", "ALTER TABLE core.brand DROP CONSTRAINT brand_code_format"),
    ("every index of 003 exists and is valid", "DROP INDEX core.idx_stock_movement_recent"),
    ("triggers exist and are enabled", "ALTER TABLE core.brand DISABLE TRIGGER brand_update_timestamp"),
    ("functions exist", "DROP FUNCTION core.refresh_all_inventory_views()"),
    (
        "every product with brand text is linked to a brand",
        "UPDATE core.products SET brand_id = NULL WHERE id = (SELECT id FROM core.products WHERE brand_id IS NOT NULL LIMIT 1)",
    ),
    (
        "every stock row has its opening balance (quantity = sum of movements)",
        "UPDATE core.stock_on_hand SET quantity = quantity + 1 WHERE id = (SELECT id FROM core.stock_on_hand LIMIT 1)",
    ),
    (
        "stock value is quantity times unit cost",
        "ALTER TABLE core.stock_on_hand DISABLE TRIGGER trg_stock_on_hand_value; \
         UPDATE core.stock_on_hand SET total_value = 0 \
         WHERE id = (SELECT id FROM core.stock_on_hand WHERE quantity > 0 AND cost_price > 0 LIMIT 1)",
    ),
    (
        "the books hold numbers (no NaN)",
        "UPDATE core.stock_on_hand SET quantity = 'NaN' WHERE id = (SELECT id FROM core.stock_on_hand LIMIT 1)",
    ),
    ("brand coverage is above the minimum", "UPDATE core.products SET brand_id = NULL"),
    ("cost coverage is above the minimum", "UPDATE core.stock_on_hand SET cost_price = NULL"),
    (
        "no product points to a missing brand or category",
        "ALTER TABLE core.products DROP CONSTRAINT products_category_id_fkey; \
         UPDATE core.products SET category_id = gen_random_uuid() WHERE id = (SELECT id FROM core.products LIMIT 1)",
    ),
    (
        "no movement without its product or warehouse",
        "ALTER TABLE core.stock_movement DROP CONSTRAINT stock_movement_warehouse_id_fkey; \
         UPDATE core.stock_movement SET warehouse_id = gen_random_uuid() WHERE id = (SELECT id FROM core.stock_movement LIMIT 1)",
    ),
    ("views are populated and have a unique index on plain columns", "DROP INDEX core.idx_mv_product_stock_pk"),
    ("a concurrent refresh of every view works", "DROP INDEX core.idx_mv_inventory_valuation_pk"),
    (
        "valuation reads the valuation view",
        "DROP MATERIALIZED VIEW core.mv_inventory_valuation; \
         CREATE VIEW core.mv_inventory_valuation AS \
         SELECT w.code AS warehouse_code, 0::numeric AS total_value FROM core.warehouses w",
    ),
    ("valuation from stock uses the covering index", "DROP INDEX core.idx_stock_on_hand_valuation"),
    ("product search by name uses its case-insensitive index", "DROP INDEX core.idx_products_name_lower"),
    ("product search by SKU uses its case-insensitive index", "DROP INDEX core.idx_products_sku_lower"),
    ("full-text product search uses the text index", "DROP INDEX core.idx_products_search"),
    ("brand lookup uses the brand key index", "DROP INDEX core.idx_brand_name_unique"),
    ("stock history of a product uses the movement index", "DROP INDEX core.idx_stock_movement_product_time"),
    ("low-stock alerts by severity use the alerts view index", "DROP INDEX core.idx_mv_low_stock_severity"),
    ("a zero-quantity movement is rejected", "ALTER TABLE core.stock_movement DROP CONSTRAINT stock_movement_quantity_not_zero"),
    ("an invalid supplier email is rejected", "ALTER TABLE core.suppliers DROP CONSTRAINT suppliers_email_format"),
    ("a negative unit cost is rejected", "ALTER TABLE core.stock_on_hand DROP CONSTRAINT stock_on_hand_cost_positive"),
    ("a brand name differing only in case and spacing is rejected", "DROP INDEX core.idx_brand_name_unique"),
    ("a malformed brand code is rejected", "ALTER TABLE core.brand DROP CONSTRAINT brand_code_format"),
    ("a product pointing to a missing brand is rejected", "ALTER TABLE core.products DROP CONSTRAINT products_brand_id_fkey"),
    (
        "a receipt moves the quantity and the weighted average cost",
        "ALTER TABLE core.stock_movement DISABLE TRIGGER stock_movement_update_cost",
    ),
    ("updating a brand sets its updated_at", "ALTER TABLE core.brand DISABLE TRIGGER brand_update_timestamp"),
];

/// (check name, SQL that breaks what it checks) for 004. `SET LOCAL
/// mantis.ledger_replay` lets a breakage change stock behind the ledger.
const CASES_004: &[(&str, &str)] = &[
    ("ledger columns exist with their types", "ALTER TABLE core.stock_movement ALTER COLUMN idempotency_key TYPE varchar(200)"),
    (
        "ledger triggers exist, are enabled and call the ledger's functions",
        "ALTER TABLE core.stock_on_hand DISABLE TRIGGER trg_stock_on_hand_capture",
    ),
    ("the idempotency key is unique and its index is valid", "DROP INDEX core.stock_movement_idempotency_key"),
    (
        "quantity on hand is the sum of movements",
        "BEGIN; SET LOCAL mantis.ledger_replay = 'on'; \
         UPDATE core.stock_on_hand SET quantity = quantity + 1 WHERE id = (SELECT id FROM core.stock_on_hand LIMIT 1); COMMIT",
    ),
    (
        "stock value is exactly the sum of movement values",
        "BEGIN; SET LOCAL mantis.ledger_replay = 'on'; \
         UPDATE core.stock_on_hand SET cost_price = cost_price + 1 \
         WHERE id = (SELECT id FROM core.stock_on_hand WHERE quantity > 0 AND cost_price IS NOT NULL LIMIT 1); COMMIT",
    ),
    (
        "zero quantity means zero value",
        "ALTER TABLE core.stock_on_hand DISABLE TRIGGER trg_stock_on_hand_value; \
         BEGIN; SET LOCAL mantis.ledger_replay = 'on'; \
         UPDATE core.stock_on_hand SET total_value = 1 WHERE id = (SELECT id FROM core.stock_on_hand WHERE quantity = 0 LIMIT 1); COMMIT",
    ),
    (
        "every transfer balances in quantity and value",
        "ALTER TABLE core.stock_movement DISABLE TRIGGER USER; \
         INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, reference_type, reference_id) \
         SELECT product_id, warehouse_id, 'TRANSFER', -1, 'TRANSFER_ORDER', gen_random_uuid() FROM core.stock_on_hand LIMIT 1; \
         ALTER TABLE core.stock_movement ENABLE TRIGGER USER",
    ),
    (
        "no negative stock where the warehouse does not allow it",
        "BEGIN; SET LOCAL mantis.ledger_replay = 'on'; \
         UPDATE core.stock_on_hand SET quantity = -1 WHERE id = (SELECT id FROM core.stock_on_hand LIMIT 1); COMMIT",
    ),
    (
        "a receipt, a shipment and a receipt after a stock-out follow the average-cost rule",
        "ALTER TABLE core.stock_movement DISABLE TRIGGER stock_movement_update_cost",
    ),
    (
        "a shipment beyond the stock on hand is rejected",
        "ALTER TABLE core.warehouses ALTER COLUMN allow_negative_stock SET DEFAULT true",
    ),
    (
        "movements cannot be changed or deleted",
        "ALTER TABLE core.stock_movement DISABLE TRIGGER trg_stock_movement_append_only",
    ),
    (
        "a direct change of the quantity on hand is recorded as an adjustment",
        "ALTER TABLE core.stock_on_hand DISABLE TRIGGER trg_stock_on_hand_capture",
    ),
    ("a source line posted twice is applied once", "ALTER TABLE core.stock_movement DISABLE TRIGGER stock_movement_update_cost"),
    (
        "a transfer moves stock at the sender's unit cost",
        "ALTER TABLE core.stock_movement DISABLE TRIGGER stock_movement_update_cost",
    ),
    (
        "every role that could read or write stock still can, as itself (ADR-029)",
        case_role!("GRANT SELECT, UPDATE ON core.stock_on_hand, core.products, core.warehouses"),
    ),
];

fn suite(version: u64) -> Suite {
    mantis_schema::migrations()
        .unwrap()
        .get(version)
        .unwrap()
        .verify_suite()
        .unwrap()
}

fn checks_and_cases_match(version: u64, cases: &[(&str, &str)]) {
    let checks: BTreeSet<String> = suite(version)
        .checks
        .iter()
        .filter(|c| c.kind != verify::CheckKind::Report)
        .map(|c| c.name.clone())
        .collect();
    let names: BTreeSet<String> = cases.iter().map(|(name, _)| name.to_string()).collect();
    assert_eq!(
        checks, names,
        "checks of {version:03} and cases must match one to one"
    );
}

/// The checks of `version` that did not fail (or warn) on their breakage.
async fn missed(version: u64, cases: &[(&'static str, &str)]) -> Vec<&'static str> {
    let spec = Spec {
        products: 300,
        ..Spec::default()
    };
    let suite = suite(version);
    let mut missed = Vec::new();
    for (check, breakage) in cases {
        let db = TestDb::seeded("verify_case", &spec, version).await;
        let client = db.client().await;
        client
            .batch_execute(breakage)
            .await
            .unwrap_or_else(|e| panic!("breaking for {check:?}: {e}"));
        let report = verify::run(&client, &suite, &VerifyOptions::default())
            .await
            .unwrap();
        drop_case_roles(&client).await;
        if !report
            .failures()
            .chain(report.warnings())
            .any(|r| r.check.name == *check)
        {
            missed.push(*check);
        }
    }
    missed
}

/// Drops the roles a case made (named after its database).
async fn drop_case_roles(client: &tokio_postgres::Client) {
    client
        .batch_execute(
            "DO $$ DECLARE r text; BEGIN \
             FOR r IN SELECT rolname FROM pg_roles WHERE starts_with(rolname, current_database() || '_') LOOP \
                 EXECUTE format('DROP OWNED BY %I', r); EXECUTE format('DROP ROLE %I', r); \
             END LOOP; END $$",
        )
        .await
        .unwrap();
}

#[test]
fn every_check_of_003_and_004_has_a_case_that_breaks_it() {
    checks_and_cases_match(3, CASES_003);
    checks_and_cases_match(4, CASES_004);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_of_003_fails_on_the_database_it_is_meant_to_catch() {
    let missed = missed(3, CASES_003).await;
    assert!(missed.is_empty(), "these checks did not fail: {missed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_of_004_fails_on_the_database_it_is_meant_to_catch() {
    let missed = missed(4, CASES_004).await;
    assert!(missed.is_empty(), "these checks did not fail: {missed:#?}");
}

/// The drift check runs before every `up`, on a live database: only checks
/// that read. A check that writes (a constraint or trigger test) or refreshes
/// a view would wait for, or make wait, the application's own work.
#[test]
fn drift_checks_only_read() {
    const WRITES: &[&str] = &[
        "INSERT",
        "UPDATE",
        "DELETE",
        "TRUNCATE",
        "MERGE",
        "REFRESH",
        "DO",
        "ALTER",
        "CREATE",
        "DROP",
        "LOCK",
        "CALL",
        "REFRESH_ALL_INVENTORY_VIEWS",
    ];
    for migration in mantis_schema::migrations().unwrap().migrations() {
        let Some(suite) = migration.verify_suite() else {
            continue;
        };
        for check in suite.drift_checks().checks {
            let sql = without_literals(&check.sql).to_uppercase();
            let words: BTreeSet<&str> = sql
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .collect();
            for word in WRITES {
                assert!(
                    !words.contains(word),
                    "{} check {:?} is in the drift check but contains {word}",
                    suite.file,
                    check.name
                );
            }
        }
    }
}

/// The SQL with its '…' literals removed (a name in a string is not a statement).
fn without_literals(sql: &str) -> String {
    sql.split('\'').step_by(2).collect::<Vec<_>>().join("''")
}

/// A `supersedes:` line names a check that exists in the earlier suite: a
/// typo would silently keep the old check (or, renamed, drop nothing).
#[test]
fn every_superseded_check_exists() {
    let set = mantis_schema::migrations().unwrap();
    let mut named = 0;
    for migration in set.migrations() {
        let Some(suite) = migration.verify_suite() else {
            continue;
        };
        for check in &suite.checks {
            for old in &check.supersedes {
                let earlier = set.get(old.version).and_then(|m| m.verify_suite());
                assert!(
                    earlier.is_some_and(|e| e.checks.iter().any(|c| c.name == old.check)),
                    "{}: {:?} supersedes {:03} {:?}, which does not exist",
                    suite.file,
                    check.name,
                    old.version,
                    old.check
                );
                named += 1;
            }
        }
    }
    assert!(named > 0, "004 supersedes 003's posting test");
}
