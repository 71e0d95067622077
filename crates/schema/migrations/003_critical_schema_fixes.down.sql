-- Reverts migration 003 without losing data (one transaction).
--
-- Before anything is dropped, every value that lives only in 003's objects is
-- copied into a new schema mantis_backup_003_<UTC time>: brands, product→brand
-- links, stock movements, unit costs and their source, supplier contacts and
-- the backfill reports. The schema's comment describes the set; `mantis backups`
-- lists them and `mantis up --restore-backup latest` puts the data back after
-- 003 is applied again (docs/execution-guide.md). Backups are never dropped by
-- mantis; drop one with DROP SCHEMA ... CASCADE once it is no longer needed.
--
-- Every value 001's tables held before 003 is given back: products.brand_id
-- returns to its legacy value (see below); nothing else of 001 is changed.
-- By hand: psql -v ON_ERROR_STOP=1 -1 -f THIS_FILE

DO $$
DECLARE
    target  text := 'mantis_backup_003_' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYYMMDD"_"HH24MISS');
    suffix  int := 1;
    base    text;
    counts  jsonb := '{}'::jsonb;
    n       bigint;
    copy    record;
BEGIN
    base := target;
    WHILE to_regnamespace(target) IS NOT NULL LOOP
        suffix := suffix + 1;
        target := base || '_' || suffix;
    END LOOP;
    EXECUTE format('CREATE SCHEMA %I', target);

    -- Each source is copied when it exists: after an interrupted up, only
    -- some of 003's objects may be there (mantis deploy rolls those back too).
    FOR copy IN SELECT * FROM (VALUES
        ('brand',
         'SELECT id, name, code, description, logo_url, website, country_of_origin, is_active, metadata,
                 created_at, updated_at, created_by, updated_by FROM core.brand'),
        ('product_brand',
         'SELECT id AS product_id, brand_id FROM core.products WHERE brand_id IS NOT NULL'),
        ('stock_movement',
         'SELECT id, product_id, warehouse_id, movement_type::text AS movement_type, quantity, unit_of_measure,
                 cost_price, value_delta, reference_type::text AS reference_type, reference_id,
                 reference_number, notes, metadata, created_by, created_at FROM core.stock_movement'),
        ('stock_cost',
         'SELECT id, product_id, warehouse_id, cost_price, cost_method::text AS cost_method, cost_source,
                 last_cost_update_at FROM core.stock_on_hand'),
        ('supplier_contact',
         'SELECT id AS supplier_id, contact_phone, contact_email, website, payment_terms FROM core.suppliers'),
        ('supplier_contact_issue',
         'SELECT supplier_id, field, value, reason, detected_at FROM core.supplier_contact_issue'),
        ('product_brand_issue',
         'SELECT product_id, legacy_brand_id, brand_text, resolution, detected_at FROM core.product_brand_issue')
    ) AS t(name, query)
    LOOP
        CONTINUE WHEN NOT CASE copy.name
            WHEN 'brand' THEN to_regclass('core.brand') IS NOT NULL
            WHEN 'product_brand' THEN to_regclass('core.brand') IS NOT NULL
            WHEN 'stock_movement' THEN to_regclass('core.stock_movement') IS NOT NULL
            WHEN 'stock_cost' THEN EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'core.stock_on_hand'::regclass
                                           AND attname = 'cost_source' AND NOT attisdropped)
            WHEN 'supplier_contact' THEN EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'core.suppliers'::regclass
                                                 AND attname = 'payment_terms' AND NOT attisdropped)
            ELSE to_regclass('core.' || copy.name) IS NOT NULL
        END;
        EXECUTE format('CREATE TABLE %I.%I AS %s', target, copy.name, copy.query);
        GET DIAGNOSTICS n = ROW_COUNT;
        counts := counts || jsonb_build_object(copy.name, n);
    END LOOP;

    EXECUTE format('COMMENT ON SCHEMA %I IS %L', target, jsonb_build_object(
        'mantis_backup', 1,
        'version', 3,
        'migration', 'critical_schema_fixes',
        'created_at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'created_by', current_user,
        'rows', counts)::text);
    RAISE NOTICE '003 down: data saved in schema % (%)', target, counts;
END
$$;

-- products.brand_id as it was before 003: the legacy value 003 recorded in
-- product_brand_issue (pointing nowhere, as it did), else NULL. Links made by
-- 003 or since are in the backup schema (product_brand). Without the issue
-- table, 003 never got as far as touching brand_id. The foreign key goes
-- first: the legacy values point nowhere.
ALTER TABLE core.products DROP CONSTRAINT IF EXISTS products_brand_id_fkey;
DO $$
BEGIN
    IF to_regclass('core.product_brand_issue') IS NOT NULL THEN
        UPDATE core.products p
        SET brand_id = legacy.legacy_brand_id
        FROM (SELECT DISTINCT ON (product_id) product_id, legacy_brand_id
              FROM core.product_brand_issue
              ORDER BY product_id, detected_at, legacy_brand_id) legacy
        WHERE legacy.product_id = p.id
          AND p.brand_id IS DISTINCT FROM legacy.legacy_brand_id;
        UPDATE core.products p
        SET brand_id = NULL
        WHERE p.brand_id IS NOT NULL
          AND NOT EXISTS (SELECT FROM core.product_brand_issue i WHERE i.product_id = p.id);
    END IF;
END
$$;

DROP FUNCTION IF EXISTS core.refresh_all_inventory_views();
DROP MATERIALIZED VIEW IF EXISTS core.mv_low_stock_alerts;
DROP MATERIALIZED VIEW IF EXISTS core.mv_product_stock_summary;
DROP MATERIALIZED VIEW IF EXISTS core.mv_inventory_valuation;

DROP TABLE IF EXISTS core.stock_movement;
DROP FUNCTION IF EXISTS core.update_stock_cost_on_movement();
DROP TABLE IF EXISTS core.supplier_contact_issue;
DROP TABLE IF EXISTS core.product_brand_issue;

DROP INDEX IF EXISTS core.products_brand_idx;
DROP INDEX IF EXISTS core.products_category_idx;
DROP INDEX IF EXISTS core.idx_products_active;
DROP INDEX IF EXISTS core.idx_products_name_lower;
DROP INDEX IF EXISTS core.idx_products_sku_lower;
DROP INDEX IF EXISTS core.idx_products_search;
DROP INDEX IF EXISTS core.idx_stock_on_hand_valuation;
DROP INDEX IF EXISTS core.idx_stock_on_hand_active;
DROP INDEX IF EXISTS core.stock_on_hand_out_of_stock_idx;
DROP INDEX IF EXISTS core.supplier_products_preferred_idx;
DROP INDEX IF EXISTS core.idx_supplier_products_product;
DROP INDEX IF EXISTS core.idx_suppliers_active;
DROP INDEX IF EXISTS core.idx_suppliers_name_lower;
DROP INDEX IF EXISTS core.idx_suppliers_email;
DROP INDEX IF EXISTS core.idx_suppliers_phone;
DROP INDEX IF EXISTS core.idx_suppliers_search;

-- Back to the plain foreign keys of migration 001 (same names, no ON DELETE
-- rule); products.brand_id had none.
DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN SELECT * FROM (VALUES
        ('core.products', 'products_category_id_fkey', 'category_id', 'core.categories'),
        ('core.stock_on_hand', 'stock_on_hand_product_id_fkey', 'product_id', 'core.products'),
        ('core.stock_on_hand', 'stock_on_hand_warehouse_id_fkey', 'warehouse_id', 'core.warehouses')
    ) AS t(tbl, name, col, ref)
    LOOP
        CONTINUE WHEN EXISTS (SELECT FROM pg_constraint
                              WHERE conrelid = fk.tbl::regclass AND conname = fk.name
                                AND confdeltype = 'a' AND convalidated);
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fk.tbl, fk.name);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES %s (id)',
                       fk.tbl, fk.name, fk.col, fk.ref);
    END LOOP;
END
$$;

DROP TRIGGER IF EXISTS trg_stock_on_hand_value ON core.stock_on_hand;
DROP FUNCTION IF EXISTS core.stock_on_hand_value();
ALTER TABLE core.stock_on_hand
    DROP COLUMN IF EXISTS cost_price,
    DROP COLUMN IF EXISTS cost_method,
    DROP COLUMN IF EXISTS cost_source,
    DROP COLUMN IF EXISTS last_cost_update_at,
    DROP COLUMN IF EXISTS total_value;

ALTER TABLE core.suppliers
    DROP COLUMN IF EXISTS contact_phone,
    DROP COLUMN IF EXISTS contact_email,
    DROP COLUMN IF EXISTS website,
    DROP COLUMN IF EXISTS payment_terms;

DROP TABLE IF EXISTS core.brand;
DROP FUNCTION IF EXISTS core.update_brand_timestamp();
DROP FUNCTION IF EXISTS core.brand_default_code();
DROP FUNCTION IF EXISTS core.is_valid_email(text);
DROP FUNCTION IF EXISTS core.is_valid_phone(text);
DROP FUNCTION IF EXISTS core.is_valid_website(text);
DROP FUNCTION IF EXISTS core.brand_code_base(text);
DROP FUNCTION IF EXISTS core.brand_key(text);
DROP FUNCTION IF EXISTS core.grant_following(text, regclass, text[], text);

DROP TYPE IF EXISTS core.cost_method;
DROP TYPE IF EXISTS core.reference_type;
DROP TYPE IF EXISTS core.movement_type;
