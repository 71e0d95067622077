//! Migration 003 on drifted databases: an object 003 creates that already
//! exists, made by someone else, is refused before anything changes, naming
//! the object and how to resolve it. Nothing is adopted, replaced or lost.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use common::{fingerprint, run, small_spec};
use mantis_testkit::TestDb;

/// The tables of 001, whose rows a refused run must leave as they were.
const TABLES_OF_001: &[&str] = &[
    "core.users",
    "core.suppliers",
    "core.categories",
    "core.products",
    "core.supplier_products",
    "core.warehouses",
    "core.stock_on_hand",
];

/// (label, the drift, what the refusal must name)
const CASES: &[(&str, &str, &str)] = &[
    (
        "total_value",
        "ALTER TABLE core.stock_on_hand ADD COLUMN total_value numeric(14,2); \
         UPDATE core.stock_on_hand SET total_value = quantity * 3",
        "column core.stock_on_hand.total_value already exists (numeric(14,2), ",
    ),
    (
        "total_value_in_a_view",
        "ALTER TABLE core.stock_on_hand ADD COLUMN total_value numeric(14,2); \
         UPDATE core.stock_on_hand SET total_value = quantity * 3; \
         CREATE VIEW public.stock_worth AS SELECT sum(total_value) FROM core.stock_on_hand",
        "column core.stock_on_hand.total_value already exists",
    ),
    (
        "cost_price_in_cents",
        "ALTER TABLE core.stock_on_hand ADD COLUMN cost_price numeric(12,2)",
        "column core.stock_on_hand.cost_price already exists (numeric(12,2), 0 non-null values)",
    ),
    (
        "foreign_key_under_another_name",
        "ALTER TABLE core.stock_on_hand RENAME CONSTRAINT stock_on_hand_product_id_fkey TO fk_soh_product",
        "a foreign key on core.stock_on_hand (product_id) already exists as fk_soh_product",
    ),
    (
        "same_name_index_on_other_columns",
        "CREATE INDEX products_brand_idx ON core.products (name)",
        "index core.products_brand_idx (CREATE INDEX products_brand_idx ON core.products USING btree (name))",
    ),
    (
        "hand_made_email_check",
        "CREATE FUNCTION core.is_valid_email(value text) RETURNS boolean LANGUAGE sql \
         AS $$ SELECT value LIKE '%@%' $$",
        "function core.is_valid_email(text) already exists",
    ),
    (
        "hand_made_updated_at_trigger",
        "CREATE FUNCTION core.update_brand_timestamp() RETURNS trigger LANGUAGE plpgsql \
         AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$; \
         CREATE TRIGGER legacy_updated_at BEFORE UPDATE ON core.products \
         FOR EACH ROW EXECUTE FUNCTION core.update_brand_timestamp()",
        "function core.update_brand_timestamp() already exists",
    ),
    (
        "brand_table",
        "CREATE TABLE core.brand (id serial PRIMARY KEY, name text); \
         INSERT INTO core.brand (name) VALUES ('Acme')",
        "table core.brand already exists",
    ),
    (
        "stock_movement_table",
        "CREATE TABLE core.stock_movement (id bigserial PRIMARY KEY, note text)",
        "table core.stock_movement already exists",
    ),
    // Every constraint 003 drops by name before adding its own: only the
    // plain key 001 leaves may be replaced; someone else's is refused.
    (
        "legacy_brand_foreign_key",
        "CREATE TABLE public.legacy_brands (id uuid PRIMARY KEY); \
         ALTER TABLE core.products ADD CONSTRAINT products_brand_id_fkey \
         FOREIGN KEY (brand_id) REFERENCES public.legacy_brands (id) NOT VALID",
        "constraint products_brand_id_fkey on core.products already exists \
         (FOREIGN KEY (brand_id) REFERENCES legacy_brands(id) NOT VALID) and no migration of the set made it",
    ),
    (
        "category_key_with_the_rule_003_sets",
        "ALTER TABLE core.products DROP CONSTRAINT products_category_id_fkey, \
         ADD CONSTRAINT products_category_id_fkey FOREIGN KEY (category_id) \
         REFERENCES core.categories (id) ON DELETE SET NULL",
        "constraint products_category_id_fkey on core.products already exists",
    ),
    (
        "stock_product_key_cascading",
        "ALTER TABLE core.stock_on_hand DROP CONSTRAINT stock_on_hand_product_id_fkey, \
         ADD CONSTRAINT stock_on_hand_product_id_fkey FOREIGN KEY (product_id) \
         REFERENCES core.products (id) ON DELETE CASCADE DEFERRABLE",
        "constraint stock_on_hand_product_id_fkey on core.stock_on_hand already exists",
    ),
    (
        "stock_warehouse_key_as_a_check",
        "ALTER TABLE core.stock_on_hand DROP CONSTRAINT stock_on_hand_warehouse_id_fkey, \
         ADD CONSTRAINT stock_on_hand_warehouse_id_fkey CHECK (warehouse_id IS NOT NULL)",
        "constraint stock_on_hand_warehouse_id_fkey on core.stock_on_hand already exists \
         (CHECK ((warehouse_id IS NOT NULL)))",
    ),
    (
        "movement_type_enum",
        "CREATE TYPE core.movement_type AS ENUM ('IN', 'OUT')",
        "type core.movement_type already exists",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pre_existing_object_is_refused_before_any_change() {
    for (label, drift, expect) in CASES {
        let db = TestDb::seeded(&format!("drifted_{label}"), &small_spec(), 1).await;
        db.client().await.batch_execute(drift).await.unwrap();
        let schema = fingerprint(&db).await;
        let client = db.client().await;
        let data = mantis_testkit::table_digests(&client, TABLES_OF_001).await;
        let out = run(&db, &["up"]).expect_code(5);
        assert!(
            out.stderr
                .contains("refusing to run 003_critical_schema_fixes")
                && out.stderr.contains(expect)
                && out.stderr.contains("resolve: "),
            "{label}: expected {expect:?} in\n{}",
            out.stderr
        );
        assert_eq!(
            fingerprint(&db).await,
            schema,
            "{label}: the schema changed"
        );
        assert_eq!(
            mantis_testkit::table_digests(&client, TABLES_OF_001).await,
            data,
            "{label}: data changed"
        );
        let json = run(&db, &["up", "--format", "json"]).expect_code(5).json();
        assert_eq!(json["error"]["exit_code"], 5, "{label}");
        // deploy refuses the same way, before its backup and before any change.
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("deploy.log");
        run(
            &db,
            &["deploy", "--no-backup", "--log", log.to_str().unwrap()],
        )
        .expect_code(5);
        assert_eq!(
            fingerprint(&db).await,
            schema,
            "{label}: deploy changed the schema"
        );
    }
}

/// Resolved as the message says, the same database migrates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolved_conflict_migrates_and_keeps_the_legacy_values() {
    let db = TestDb::seeded("drifted_resolved", &small_spec(), 1).await;
    let client = db.client().await;
    client
        .batch_execute(
            "ALTER TABLE core.stock_on_hand ADD COLUMN total_value numeric(14,2); \
             UPDATE core.stock_on_hand SET total_value = quantity * 3",
        )
        .await
        .unwrap();
    let legacy = "SELECT md5(string_agg(id::text || ':' || coalesce(total_value_legacy::text, '-'), ',' ORDER BY id)) \
                  FROM core.stock_on_hand";
    client
        .batch_execute(
            "ALTER TABLE core.stock_on_hand RENAME COLUMN total_value TO total_value_legacy",
        )
        .await
        .unwrap();
    let before: String = client.query_one(legacy, &[]).await.unwrap().get(0);
    run(&db, &["up"]).expect_code(0);
    run(&db, &["verify"]).expect_code(0);
    run(&db, &["down", "--to", "1"]).expect_code(0);
    let after: String = client.query_one(legacy, &[]).await.unwrap().get(0);
    assert_eq!(
        before, after,
        "the legacy column and its values are untouched"
    );
}

/// What the issue tables say, without when they said it.
const ISSUES: &str = "SELECT md5(coalesce(string_agg(t, '|' ORDER BY t), '')) FROM ( \
     SELECT product_id::text || legacy_brand_id::text || coalesce(brand_text, '-') || resolution AS t \
     FROM core.product_brand_issue \
     UNION ALL SELECT supplier_id::text || field || value || reason FROM core.supplier_contact_issue) i";

/// Which products 003 linked to which brand, by the brand's name.
const LINKS: &str =
    "SELECT md5(string_agg(p.sku || '=' || coalesce(b.name, '-'), ',' ORDER BY p.sku)) \
     FROM core.products p LEFT JOIN core.brand b ON b.id = p.brand_id";

/// The data variants 003 must read and give back: legacy `products.brand_id`
/// values that point nowhere, dirty supplier contacts in metadata, brand
/// spellings whose codes collide. `down`, and deploy's automatic rollback,
/// return every 001 table value for value; up → down → up gives the same
/// issue reports and brand links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_and_rollback_give_back_every_value_of_001() {
    let db = TestDb::seeded("drifted_data_roundtrip", &small_spec(), 1).await;
    let client = db.client().await;
    assert!(
        common::count(&db, "core.products WHERE brand_id IS NOT NULL").await > 0,
        "the seed has legacy brand ids"
    );
    let before = mantis_testkit::table_digests(&client, TABLES_OF_001).await;

    run(&db, &["up"]).expect_code(0);
    let issues = common::scalar(&db, ISSUES).await;
    let links = common::scalar(&db, LINKS).await;
    assert!(
        common::count(&db, "core.product_brand_issue").await > 0
            && common::count(&db, "core.supplier_contact_issue").await > 0,
        "the seed's dirt is reported"
    );
    run(&db, &["down", "--to", "1"]).expect_code(0);
    assert_eq!(
        mantis_testkit::table_digests(&client, TABLES_OF_001).await,
        before,
        "down gives back every value 001's tables held"
    );

    run(&db, &["up"]).expect_code(0);
    assert_eq!(common::scalar(&db, ISSUES).await, issues, "same reports");
    assert_eq!(common::scalar(&db, LINKS).await, links, "same brand links");
    run(&db, &["down", "--to", "1"]).expect_code(0);
    assert_eq!(
        mantis_testkit::table_digests(&client, TABLES_OF_001).await,
        before,
        "a second round trip too"
    );

    // deploy fails at 003's views, after its backfills ran; its rollback
    // gives back the same values.
    common::refuse_ddl(&db, "CREATE MATERIALIZED VIEW").await;
    run(&db, &["deploy", "--no-backup"]).expect_code(6);
    common::allow_ddl(&db).await;
    assert_eq!(
        mantis_testkit::table_digests(&client, TABLES_OF_001).await,
        before,
        "deploy's rollback gives back every value"
    );
}
