#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! Migration 003 on seeded, dirty data: every object, every backfill, every
//! pitfall of the original package, against real PostgreSQL.

use std::collections::BTreeSet;

use mantis_datagen::catalog;
use mantis_migrate::{
    ignore_events, verify, Direction, Error, Migrator, RunOptions, Session, Target,
};
use mantis_schema::summary;
use mantis_testkit::{Spec, TestDb};
use tokio_postgres::Client;

fn migrator() -> Migrator {
    Migrator::new(
        mantis_schema::migrations().unwrap(),
        RunOptions::default(),
        ignore_events(),
    )
}

/// Migrates up to 003, the migration under test.
async fn up(session: &Session) -> Result<(), Error> {
    migrator()
        .run(session, Direction::Up, Target::Version(3))
        .await
        .map(|_| ())
}

fn default_spec() -> Spec {
    Spec::default()
}

async fn strings(client: &Client, sql: &str) -> Vec<String> {
    client
        .query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
        .collect()
}

async fn one(client: &Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

async fn suite_report(client: &Client) -> verify::VerifyReport {
    let suite = mantis_schema::migrations()
        .unwrap()
        .get(3)
        .unwrap()
        .verify_suite()
        .unwrap();
    verify::run(client, &suite, &Default::default())
        .await
        .unwrap()
}

const REWRITE_WATCH: &str = "SELECT c.relname || ':' || c.relfilenode FROM pg_class c \
     WHERE c.oid IN ('core.products'::regclass, 'core.stock_on_hand'::regclass, \
                     'core.suppliers'::regclass, 'core.supplier_products'::regclass) ORDER BY 1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applies_on_seeded_data_with_every_object_and_passes_its_checks() {
    let db = TestDb::seeded("m003_apply", &default_spec(), 1).await;
    let session = db.session().await;
    let client = session.client();
    let files_before = strings(client, REWRITE_WATCH).await;
    let metadata_before = strings(
        client,
        "SELECT id || metadata::text FROM core.suppliers ORDER BY 1",
    )
    .await;
    let indexes_before = one(
        client,
        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'core'",
    )
    .await;
    let constraints_before = one(
        client,
        "SELECT count(*) FROM pg_constraint WHERE connamespace = 'core'::regnamespace",
    )
    .await;

    up(&session).await.unwrap();

    let report = suite_report(client).await;
    let failures: Vec<String> = report
        .failures()
        .map(|r| format!("{}: {:?}", r.check.name, r.finding()))
        .collect();
    assert!(report.passed(), "003 checks failed: {failures:#?}");
    assert!(
        report.results.len() >= 15,
        "the suite has {} checks",
        report.results.len()
    );

    // The seed's inventory of objects.
    let indexes = one(
        client,
        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'core'",
    )
    .await;
    assert!(
        indexes - indexes_before >= 15,
        "{} indexes added",
        indexes - indexes_before
    );
    let constraints = one(
        client,
        "SELECT count(*) FROM pg_constraint WHERE connamespace = 'core'::regnamespace",
    )
    .await;
    assert!(
        constraints - constraints_before >= 20,
        "{} constraints added",
        constraints - constraints_before
    );
    assert_eq!(
        one(
            client,
            "SELECT count(*) FROM pg_matviews WHERE schemaname = 'core' AND ispopulated"
        )
        .await,
        3
    );
    assert_eq!(
        one(client, "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'core.%'").await,
        4
    );
    assert_eq!(
        one(client, "SELECT count(*) FROM pg_type WHERE typnamespace = 'core'::regnamespace AND typtype = 'e'").await,
        3
    );

    // Pitfall: no table rewrite and no constraint left unvalidated.
    assert_eq!(
        strings(client, REWRITE_WATCH).await,
        files_before,
        "an existing table was rewritten"
    );
    assert_eq!(
        one(client, "SELECT count(*) FROM pg_constraint WHERE connamespace = 'core'::regnamespace AND NOT convalidated").await,
        0
    );
    // Metadata is the untouched legacy record.
    assert_eq!(
        strings(
            client,
            "SELECT id || metadata::text FROM core.suppliers ORDER BY 1"
        )
        .await,
        metadata_before
    );

    // The seed's success bars.
    let s = summary::read(client).await.unwrap();
    assert!(
        s.brand_coverage() > 50.into(),
        "brand coverage {}",
        s.brand_coverage()
    );
    assert!(
        s.cost_coverage() > 70.into(),
        "cost coverage {}",
        s.cost_coverage()
    );
    assert!((20..=26).contains(&s.brands), "{} brands", s.brands);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brand_variants_become_one_brand_with_unique_deterministic_codes() {
    let db = TestDb::seeded("m003_brands", &default_spec(), 3).await;
    let client = db.client().await;
    for brand in catalog::BRANDS {
        let keys: BTreeSet<String> = brand
            .spellings
            .iter()
            .map(|s| {
                s.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase()
            })
            .collect();
        for spelling in brand.spellings.iter() {
            let linked = strings(
                &client,
                &format!(
                    "SELECT DISTINCT b.name FROM core.products p JOIN core.brand b ON b.id = p.brand_id \
                     WHERE p.brand_from_supplier = '{spelling}'"
                ),
            )
            .await;
            assert!(linked.len() <= 1, "{spelling} linked to {linked:?}");
            if keys.len() == 1 {
                let unlinked = one(
                    &client,
                    &format!("SELECT count(*) FROM core.products WHERE brand_from_supplier = '{spelling}' AND brand_id IS NULL"),
                )
                .await;
                assert_eq!(unlinked, 0, "{spelling}");
            }
        }
    }
    // Case and spacing variants: one brand.
    assert_eq!(
        one(
            &client,
            "SELECT count(*) FROM core.brand WHERE core.brand_key(name) = 'bosch'"
        )
        .await,
        1
    );
    // Colliding derived codes are resolved, never dropped.
    let codes = strings(&client, "SELECT code FROM core.brand ORDER BY code").await;
    for code in ["BLACK_DECKER", "BLACK_DECKER_2", "A_B_TOOLS", "A_B_TOOLS_2"] {
        assert!(
            codes.contains(&code.to_string()),
            "{code} missing from {codes:?}"
        );
    }
    // Names without Latin letters get a code too.
    let cyrillic = strings(
        &client,
        "SELECT code FROM core.brand WHERE name = 'Электрон'",
    )
    .await;
    assert_eq!(cyrillic.len(), 1);
    assert!(
        cyrillic[0].starts_with("BRAND_") && cyrillic[0].len() == 14,
        "{cyrillic:?}"
    );
    assert_eq!(
        one(&client, "SELECT count(*) FROM core.products WHERE btrim(brand_from_supplier) <> '' AND brand_id IS NULL").await,
        0
    );
    // Deterministic: the same data gives the same codes in another database.
    let again = TestDb::seeded("m003_brands_again", &default_spec(), 3).await;
    let codes_again = strings(
        &again.client().await,
        "SELECT code FROM core.brand ORDER BY code",
    )
    .await;
    assert_eq!(codes, codes_again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangling_brand_ids_are_reported_with_their_old_value_and_resolved() {
    let db = TestDb::seeded("m003_dangling", &default_spec(), 1).await;
    let session = db.session().await;
    let client = session.client();
    let legacy: BTreeSet<String> = strings(
        client,
        "SELECT id || '>' || brand_id FROM core.products WHERE brand_id IS NOT NULL",
    )
    .await
    .into_iter()
    .collect();
    assert!(
        legacy.len() > 10,
        "the seed must contain dangling brand ids"
    );
    up(&session).await.unwrap();
    let reported: BTreeSet<String> = strings(
        client,
        "SELECT product_id || '>' || legacy_brand_id FROM core.product_brand_issue",
    )
    .await
    .into_iter()
    .collect();
    assert_eq!(reported, legacy);
    let wrong = one(
        client,
        "SELECT count(*) FROM core.product_brand_issue i JOIN core.products p ON p.id = i.product_id \
         WHERE (btrim(p.brand_from_supplier) <> '') <> (i.resolution = 'relinked by brand text') \
            OR (i.resolution = 'relinked by brand text' AND p.brand_id IS NULL) \
            OR (i.resolution <> 'relinked by brand text' AND p.brand_id IS NOT NULL)",
    )
    .await;
    assert_eq!(
        wrong, 0,
        "resolution must match what happened to the product"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_contacts_move_invalid_ones_are_reported_and_terms_are_kept() {
    let db = TestDb::seeded("m003_contacts", &default_spec(), 3).await;
    let client = db.client().await;
    let issues: BTreeSet<String> = strings(
        &client,
        "SELECT s.name || '/' || i.field || '=' || i.value FROM core.supplier_contact_issue i \
         JOIN core.suppliers s ON s.id = i.supplier_id",
    )
    .await
    .into_iter()
    .collect();
    let expected: BTreeSet<String> = [
        "Cape Hardware Wholesale/email=info@capehardware",
        "Durban Tool Distributors/phone=TBC",
        "Eastern Cape Fasteners/email=sales at ecfasteners.co.za",
        "Free State Building Supplies/website=not available",
        "Highveld Plumbing Co/phone=555",
        "Joburg Electrical/email=n/a",
        "Karoo Agricultural/website=http://",
        "Orange River Paints/email=orders@orpaints..co.za",
        "Quality Abrasives/phone=phone: ask reception",
        "Rustenburg Welding/website=ftp://rustweld.co.za",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(issues, expected);
    assert_eq!(
        one(&client, "SELECT count(*) FROM core.supplier_contact_issue WHERE reason NOT LIKE 'not a%(expected%'").await,
        0,
        "every report says what was expected"
    );
    let rows = strings(
        &client,
        "SELECT name || '|' || coalesce(contact_email, '-') || '|' || coalesce(contact_phone, '-') || '|' \
         || coalesce(website, '-') || '|' || payment_terms FROM core.suppliers ORDER BY name",
    )
    .await;
    for expected in [
        "Bolt & Nut Traders|sales@boltnut.co.za|011 555 0102|www.boltnut.co.za|Net 60",
        "Cape Hardware Wholesale|-|+27 21 555 0103|capehardware.co.za|Net 30",
        "Free State Building Supplies|fsbs@mweb.co.za|(051) 555-0106|-|Net 30",
        "Highveld Plumbing Co|-|-|-|EOM + 30",
        "Mpumalanga Mining Supplies|mms@mining-supplies.co.za|+27 13 555 0113|https://mining-supplies.co.za|Net 60",
    ] {
        assert!(rows.contains(&expected.to_string()), "{expected} not in {rows:#?}");
    }
    // Invalid values stay where they were.
    assert_eq!(
        strings(
            &client,
            "SELECT metadata->>'email' FROM core.suppliers WHERE name = 'Joburg Electrical'"
        )
        .await,
        ["n/a"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn costs_come_from_the_best_supplier_price_and_movements_open_every_balance() {
    let db = TestDb::seeded("m003_costs", &default_spec(), 3).await;
    let client = db.client().await;
    // Preferred price when there is one in the base currency.
    let wrong_preferred = one(
        &client,
        "SELECT count(*) FROM core.stock_on_hand s WHERE s.cost_source = 'PREFERRED_SUPPLIER' AND NOT EXISTS ( \
             SELECT FROM core.supplier_products sp WHERE sp.product_id = s.product_id AND sp.is_preferred \
               AND sp.currency = 'ZAR' AND sp.cost_price = s.cost_price)",
    )
    .await;
    assert_eq!(wrong_preferred, 0);
    let skipped_preferred = one(
        &client,
        "SELECT count(*) FROM core.stock_on_hand s WHERE s.cost_source = 'SUPPLIER_PRICE' AND EXISTS ( \
             SELECT FROM core.supplier_products sp WHERE sp.product_id = s.product_id AND sp.is_preferred \
               AND sp.currency = 'ZAR' AND sp.cost_price > 0)",
    )
    .await;
    assert_eq!(skipped_preferred, 0);
    let missed = one(
        &client,
        "SELECT count(*) FROM core.stock_on_hand s WHERE s.cost_price IS NULL AND EXISTS ( \
             SELECT FROM core.supplier_products sp WHERE sp.product_id = s.product_id \
               AND sp.currency = 'ZAR' AND sp.cost_price > 0)",
    )
    .await;
    assert_eq!(missed, 0, "a usable price was not used");
    let foreign = one(
        &client,
        "SELECT count(*) FROM core.stock_on_hand s WHERE s.cost_price IS NOT NULL AND NOT EXISTS ( \
             SELECT FROM core.supplier_products sp WHERE sp.product_id = s.product_id \
               AND sp.currency = 'ZAR' AND sp.cost_price = s.cost_price)",
    )
    .await;
    assert_eq!(foreign, 0, "a cost came from a non-ZAR price");
    assert!(
        one(
            &client,
            "SELECT count(*) FROM core.stock_on_hand WHERE cost_source = 'SUPPLIER_PRICE'"
        )
        .await
            > 0
    );

    // Opening balances: quantity = sum of movements; zero rows have none.
    let off = one(
        &client,
        "SELECT count(*) FROM core.stock_on_hand s LEFT JOIN ( \
             SELECT product_id, warehouse_id, sum(quantity) AS q FROM core.stock_movement GROUP BY 1, 2) m \
           USING (product_id, warehouse_id) WHERE s.quantity <> coalesce(m.q, 0)",
    )
    .await;
    assert_eq!(off, 0);
    assert_eq!(
        one(&client, "SELECT count(*) FROM core.stock_movement").await,
        one(
            &client,
            "SELECT count(*) FROM core.stock_on_hand WHERE quantity <> 0"
        )
        .await
    );
    assert!(
        one(
            &client,
            "SELECT count(*) FROM core.stock_on_hand WHERE quantity = 0"
        )
        .await
            > 0
    );
    assert_eq!(
        one(
            &client,
            "SELECT count(*) FROM core.stock_movement m JOIN core.stock_on_hand s USING (product_id, warehouse_id) \
             WHERE m.reference_number <> 'OPENING-BALANCE' OR m.cost_price IS DISTINCT FROM s.cost_price"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_up_again_by_hand_with_psql_changes_no_data() {
    let db = TestDb::seeded("m003_rerun", &default_spec(), 3).await;
    let client = db.client().await;
    let before = mantis_testkit::table_digests(&client, mantis_testkit::TABLES_OF_003).await;
    let up = format!(
        "{}/migrations/003_critical_schema_fixes.up.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = std::process::Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &db.url(),
            "-f",
            &up,
        ])
        .env("PGOPTIONS", mantis_schema::PSQL_OPTIONS)
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        mantis_testkit::table_digests(&client, mantis_testkit::TABLES_OF_003).await,
        before,
        "re-running up changed data"
    );
    let report = suite_report(&client).await;
    assert!(report.passed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_hold_final_data_and_refresh_concurrently() {
    let db = TestDb::seeded("m003_views", &default_spec(), 3).await;
    let client = db.client().await;
    let live = strings(
        &client,
        "SELECT warehouse_id || ':' || sum(total_value) FROM core.stock_on_hand GROUP BY warehouse_id ORDER BY 1",
    )
    .await;
    let view = strings(
        &client,
        "SELECT warehouse_id || ':' || total_value FROM core.mv_inventory_valuation ORDER BY 1",
    )
    .await;
    assert_eq!(
        view, live,
        "the view must hold the data as the migration committed it"
    );
    let modes = strings(
        &client,
        "SELECT view_name || ':' || refreshed_concurrently FROM core.refresh_all_inventory_views()",
    )
    .await;
    assert_eq!(
        modes,
        [
            "mv_inventory_valuation:true",
            "mv_product_stock_summary:true",
            "mv_low_stock_alerts:true"
        ]
    );
    let volatile = strings(
        &client,
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indpred IS NOT NULL \
           AND indrelid::regclass::text LIKE 'core.%' \
           AND pg_get_expr(indpred, indrelid) ~* '(now|current_timestamp|current_date|clock_timestamp|random)'",
    )
    .await;
    assert!(volatile.is_empty(), "{volatile:?}");
}

#[test]
fn no_sql_file_swallows_every_error() {
    let dirs = ["migrations", "restore"];
    for dir in dirs {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for entry in std::fs::read_dir(path).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
            let squashed = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                !squashed.contains("when others"),
                "{} has a WHEN OTHERS handler",
                path.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_receipts_serialize_on_the_stock_row() {
    let db = TestDb::seeded(
        "m003_concurrent",
        &Spec {
            products: 50,
            ..default_spec()
        },
        3,
    )
    .await;
    let first = db.client().await;
    let second = db.client().await;
    let row = first
        .query_one(
            "SELECT product_id, warehouse_id, quantity::text, cost_price::text FROM core.stock_on_hand \
             WHERE quantity > 0 AND cost_price IS NOT NULL ORDER BY id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (product, warehouse): (uuid_text::Id, uuid_text::Id) = (row.get(0), row.get(1));
    let (q0, c0): (String, String) = (row.get(2), row.get(3));
    let receipt = |qty: &str, cost: &str| {
        format!(
            "INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price) \
             VALUES ('{}', '{}', 'RECEIPT', {qty}, {cost})",
            product.0, warehouse.0
        )
    };
    first.batch_execute("BEGIN").await.unwrap();
    first.batch_execute(&receipt("10", "100")).await.unwrap();
    let second_receipt = receipt("30", "200");
    let blocked = tokio::spawn(async move {
        second.batch_execute(&second_receipt).await.unwrap();
        second
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !blocked.is_finished(),
        "the second receipt must wait for the row lock"
    );
    first.batch_execute("COMMIT").await.unwrap();
    let second = blocked.await.unwrap();
    let expected = strings(
        &second,
        &format!(
            "SELECT round((({q0} + 10) * round(({q0} * {c0} + 10 * 100) / ({q0} + 10), 6) + 30 * 200) / ({q0} + 40), 6)::text"
        ),
    )
    .await;
    let found = strings(
        &second,
        &format!(
            "SELECT cost_price::text FROM core.stock_on_hand WHERE product_id = '{}' AND warehouse_id = '{}'",
            product.0, warehouse.0
        ),
    )
    .await;
    assert_eq!(found, expected, "both receipts must count, in commit order");
}

/// Reads a uuid column as text without a uuid crate dependency.
mod uuid_text {
    use tokio_postgres::types::{FromSql, Type};

    pub struct Id(pub String);

    impl<'a> FromSql<'a> for Id {
        fn from_sql(
            _: &Type,
            raw: &'a [u8],
        ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
            let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            Ok(Id(format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            )))
        }
        fn accepts(ty: &Type) -> bool {
            *ty == Type::UUID
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checks_fail_on_a_database_without_003() {
    let db = TestDb::seeded(
        "m003_absent",
        &Spec {
            products: 50,
            ..default_spec()
        },
        1,
    )
    .await;
    let report = suite_report(&db.client().await).await;
    assert!(!report.passed());
    let failed: Vec<&str> = report.failures().map(|r| r.check.name.as_str()).collect();
    assert!(failed.contains(&"new tables exist"), "{failed:?}");
    assert!(
        failed.contains(&"enums have exactly the expected labels"),
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_drifted_from_001_is_refused_before_anything_changes() {
    let db = TestDb::seeded(
        "m003_drift",
        &Spec {
            products: 50,
            ..default_spec()
        },
        1,
    )
    .await;
    let session = db.session().await;
    let client = session.client();
    client
        .batch_execute(
            "ALTER TABLE core.stock_on_hand RENAME TO stock_levels; \
             ALTER TABLE core.products RENAME COLUMN sku TO product_code; \
             ALTER TABLE core.warehouses ALTER COLUMN code TYPE varchar(10)",
        )
        .await
        .unwrap();
    let objects_before = one(
        client,
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'core'::regnamespace",
    )
    .await;
    let err = up(&session).await.unwrap_err();
    let Error::Drift {
        version, findings, ..
    } = &err
    else {
        panic!("expected a drift refusal, got {err}");
    };
    assert_eq!(*version, 1);
    let text = findings.join("\n");
    for needle in [
        "table=core.stock_on_hand, column=quantity, expected=numeric(18,4), found=table missing",
        "table=core.products, column=sku, expected=text, found=column missing",
        "table=core.warehouses, column=code, expected=text, found=character varying(10)",
    ] {
        assert!(text.contains(needle), "{needle}\nnot in\n{err}");
    }
    assert!(err.to_string().contains("--no-drift-check"));
    assert_eq!(
        one(
            client,
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'core'::regnamespace"
        )
        .await,
        objects_before,
        "nothing may change"
    );
    assert_eq!(
        one(client, "SELECT max(version) FROM mantis.schema_migrations").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_of_100k_products_migrates_with_the_same_guarantees() {
    let spec = Spec {
        products: 100_000,
        warehouses: 5,
        ..default_spec()
    };
    let db = TestDb::seeded("m003_100k", &spec, 1).await;
    let session = db.session().await;
    up(&session).await.unwrap();
    let client = session.client();
    let report = suite_report(client).await;
    let failures: Vec<String> = report
        .failures()
        .map(|r| format!("{}: {:?}", r.check.name, r.finding()))
        .collect();
    assert!(report.passed(), "{failures:#?}");
    let s = summary::read(client).await.unwrap();
    assert_eq!(s.products, 100_000);
    assert!(s.brand_coverage() > 90.into(), "{}", s.brand_coverage());
    assert!(s.cost_coverage() > 80.into(), "{}", s.cost_coverage());
    assert_eq!(s.views[1].1, 100_000, "one summary row per product");
}
