-- Checks of migration 003. Each check is a SELECT returning the offending rows:
-- zero rows means it passes. Run by the engine in one rolled-back transaction,
-- each check in its own savepoint, so checks that write change nothing.

-- section: 1 Schema
-- check: new tables exist
SELECT t AS missing_table
FROM unnest(ARRAY['brand', 'stock_movement', 'supplier_contact_issue', 'product_brand_issue']) AS t
WHERE to_regclass('core.' || t) IS NULL;

-- check: enums have exactly the expected labels
WITH expected (type_name, labels) AS (VALUES
    ('movement_type', ARRAY['RECEIPT', 'SHIPMENT', 'ADJUSTMENT', 'TRANSFER', 'RETURN', 'DAMAGED', 'THEFT', 'PRODUCTION']),
    ('reference_type', ARRAY['PURCHASE_ORDER', 'SALES_ORDER', 'TRANSFER_ORDER', 'MANUAL_ADJUSTMENT', 'SYSTEM_ADJUSTMENT', 'STOCK_COUNT']),
    ('cost_method', ARRAY['FIFO', 'LIFO', 'WAC', 'SPECIFIC'])
)
SELECT e.type_name, e.labels AS expected,
       (SELECT array_agg(enumlabel::text ORDER BY enumsortorder) FROM pg_enum
        WHERE enumtypid = to_regtype('core.' || e.type_name)) AS found
FROM expected e
WHERE (SELECT array_agg(enumlabel::text ORDER BY enumsortorder) FROM pg_enum
       WHERE enumtypid = to_regtype('core.' || e.type_name)) IS DISTINCT FROM e.labels;

-- check: new columns exist with their types
WITH expected (table_name, column_name, data_type) AS (VALUES
    ('stock_on_hand', 'cost_price', 'numeric(20,6)'),
    ('stock_on_hand', 'cost_method', 'core.cost_method'),
    ('stock_on_hand', 'cost_source', 'text'),
    ('stock_on_hand', 'last_cost_update_at', 'timestamp with time zone'),
    ('stock_on_hand', 'total_value', 'numeric(38,10)'),
    ('suppliers', 'contact_phone', 'text'),
    ('suppliers', 'contact_email', 'text'),
    ('suppliers', 'website', 'text'),
    ('suppliers', 'payment_terms', 'text'),
    ('brand', 'name', 'text'),
    ('brand', 'code', 'text'),
    ('brand', 'logo_url', 'text'),
    ('brand', 'country_of_origin', 'text'),
    ('brand', 'metadata', 'jsonb'),
    ('brand', 'created_by', 'uuid'),
    ('brand', 'updated_by', 'uuid'),
    ('stock_movement', 'movement_type', 'core.movement_type'),
    ('stock_movement', 'quantity', 'numeric(18,4)'),
    ('stock_movement', 'cost_price', 'numeric(20,6)'),
    ('stock_movement', 'total_cost', 'numeric(38,10)'),
    ('stock_movement', 'reference_type', 'core.reference_type'),
    ('stock_movement', 'reference_id', 'uuid')
)
SELECT 'core.' || e.table_name AS "table", e.column_name AS "column", e.data_type AS expected,
       coalesce(format_type(a.atttypid, a.atttypmod), 'missing') AS found
FROM expected e
LEFT JOIN pg_attribute a
       ON a.attrelid = to_regclass('core.' || e.table_name)
      AND a.attname = e.column_name AND a.attnum > 0 AND NOT a.attisdropped
WHERE a.attname IS NULL OR format_type(a.atttypid, a.atttypmod) <> e.data_type;

-- check: roles that could read or write a table before 003 can do the same with what 003 adds beside it (ADR-029)
-- drift-check: skip
WITH follows (source, held, target, privilege) AS (VALUES
    ('core.products', 'SELECT', 'core.brand', 'SELECT'),
    ('core.products', 'INSERT', 'core.brand', 'INSERT'),
    ('core.products', 'UPDATE', 'core.brand', 'UPDATE'),
    ('core.products', 'SELECT', 'core.product_brand_issue', 'SELECT'),
    ('core.suppliers', 'SELECT', 'core.supplier_contact_issue', 'SELECT'),
    ('core.stock_on_hand', 'SELECT', 'core.stock_movement', 'SELECT'),
    ('core.stock_on_hand', 'INSERT', 'core.stock_movement', 'INSERT'),
    ('core.stock_on_hand', 'UPDATE', 'core.stock_movement', 'INSERT'),
    ('core.stock_on_hand', 'DELETE', 'core.stock_movement', 'INSERT'),
    ('core.stock_on_hand', 'SELECT', 'core.mv_inventory_valuation', 'SELECT'),
    ('core.stock_on_hand', 'SELECT', 'core.mv_product_stock_summary', 'SELECT'),
    ('core.stock_on_hand', 'SELECT', 'core.mv_low_stock_alerts', 'SELECT')
)
SELECT a.grantee::regrole AS role, f.held || ' on ' || f.source AS had, f.privilege || ' on ' || f.target AS lacks
FROM follows f
JOIN pg_class c ON c.oid = f.source::regclass
CROSS JOIN LATERAL aclexplode(c.relacl) a
WHERE a.grantee <> 0 AND a.grantee <> c.relowner AND a.privilege_type = f.held
  AND NOT has_table_privilege(a.grantee, f.target, f.privilege);

-- check: only the owner may change or remove a movement, and only writers of stock may post one
-- drift-check: skip
SELECT a.grantee::regrole AS role, a.privilege_type
FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
WHERE c.oid = 'core.stock_movement'::regclass AND a.grantee <> c.relowner
  AND (a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
       OR (a.privilege_type = 'INSERT'
           AND (a.grantee = 0 OR NOT (has_table_privilege(a.grantee, 'core.stock_on_hand', 'INSERT')
                                      OR has_table_privilege(a.grantee, 'core.stock_on_hand', 'UPDATE')
                                      OR has_table_privilege(a.grantee, 'core.stock_on_hand', 'DELETE')))));

-- check: PUBLIC has no privilege on what 003 adds
-- drift-check: skip
-- severity: warning
SELECT c.oid::regclass AS object, a.privilege_type
FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
WHERE c.oid IN (SELECT to_regclass('core.' || t) FROM unnest(ARRAY[
          'brand', 'stock_movement', 'supplier_contact_issue', 'product_brand_issue',
          'mv_inventory_valuation', 'mv_product_stock_summary', 'mv_low_stock_alerts']) AS t)
  AND a.grantee = 0;

-- section: 2 Constraints
-- check: foreign keys have the ON DELETE rules of ADR-024
WITH expected (table_name, column_name, referenced, rule) AS (VALUES
    ('stock_on_hand', 'product_id', 'core.products', 'c'),
    ('stock_movement', 'product_id', 'core.products', 'c'),
    ('stock_on_hand', 'warehouse_id', 'core.warehouses', 'r'),
    ('stock_movement', 'warehouse_id', 'core.warehouses', 'c'),
    ('products', 'brand_id', 'core.brand', 'n'),
    ('products', 'category_id', 'core.categories', 'n')
)
SELECT 'core.' || e.table_name || '.' || e.column_name AS foreign_key,
       e.referenced, e.rule AS expected_rule,
       coalesce(string_agg(k.confdeltype::text || CASE WHEN k.convalidated THEN '' ELSE ' (not validated)' END, ', '),
                'missing') AS found
FROM expected e
LEFT JOIN pg_constraint k
       ON k.contype = 'f'
      AND k.conrelid = to_regclass('core.' || e.table_name)
      AND k.confrelid = to_regclass(e.referenced)
      AND k.conkey = ARRAY[(SELECT attnum FROM pg_attribute
                            WHERE attrelid = to_regclass('core.' || e.table_name) AND attname = e.column_name)]
GROUP BY e.table_name, e.column_name, e.referenced, e.rule
HAVING count(k.oid) <> 1 OR bool_or(k.confdeltype::text <> e.rule OR NOT k.convalidated);

-- check: constraints exist under their names and are validated
SELECT c AS missing_or_not_validated
FROM unnest(ARRAY[
    'brand.brand_pkey', 'brand.brand_name_not_blank', 'brand.brand_code_format', 'brand.brand_website_format',
    'brand.brand_created_by_fkey', 'brand.brand_updated_by_fkey',
    'stock_movement.stock_movement_quantity_not_zero', 'stock_movement.stock_movement_cost_positive',
    'stock_movement.stock_movement_reference_has_type', 'stock_movement.stock_movement_pkey',
    'stock_movement.stock_movement_product_id_fkey', 'stock_movement.stock_movement_warehouse_id_fkey',
    'stock_movement.stock_movement_created_by_fkey',
    'stock_on_hand.stock_on_hand_cost_positive', 'stock_on_hand.stock_on_hand_cost_source_known',
    'stock_on_hand.stock_on_hand_product_id_fkey', 'stock_on_hand.stock_on_hand_warehouse_id_fkey',
    'products.products_brand_id_fkey', 'products.products_category_id_fkey',
    'suppliers.suppliers_email_format', 'suppliers.suppliers_phone_format',
    'suppliers.suppliers_website_format']) AS c
WHERE NOT EXISTS (
    SELECT FROM pg_constraint k
    WHERE k.conrelid = to_regclass('core.' || split_part(c, '.', 1))
      AND k.conname = split_part(c, '.', 2)
      AND k.convalidated);

-- section: 3 Indexes
-- check: every index of 003 exists and is valid
SELECT i AS missing_or_invalid_index
FROM unnest(ARRAY[
    'brand_pkey', 'idx_brand_code_unique', 'idx_brand_name_unique', 'idx_brand_active', 'idx_brand_metadata',
    'stock_movement_pkey', 'idx_stock_movement_product_time', 'idx_stock_movement_warehouse_time',
    'idx_stock_movement_reference', 'stock_movement_type_time_idx', 'idx_stock_movement_created_at',
    'idx_stock_movement_recent', 'idx_stock_movement_metadata',
    'products_brand_idx', 'products_category_idx', 'idx_products_active', 'idx_products_name_lower',
    'idx_products_sku_lower', 'idx_products_search',
    'idx_stock_on_hand_valuation', 'idx_stock_on_hand_active', 'stock_on_hand_out_of_stock_idx',
    'supplier_products_preferred_idx', 'idx_supplier_products_product', 'idx_suppliers_active', 'idx_suppliers_name_lower',
    'idx_suppliers_email', 'idx_suppliers_phone', 'idx_suppliers_search',
    'idx_mv_inventory_valuation_pk', 'idx_mv_product_stock_pk', 'mv_product_stock_summary_brand_idx',
    'idx_mv_product_stock_quantity', 'idx_mv_product_stock_value',
    'mv_low_stock_alerts_key', 'idx_mv_low_stock_severity', 'idx_mv_low_stock_warehouse']) AS i
WHERE NOT EXISTS (
    SELECT FROM pg_index x
    WHERE x.indexrelid = to_regclass('core.' || i) AND x.indisvalid AND x.indisready);

-- section: 4 Triggers and functions
-- check: triggers exist and are enabled
SELECT t AS missing_or_disabled_trigger
FROM unnest(ARRAY['brand.brand_update_timestamp', 'brand.brand_default_code',
                  'stock_movement.stock_movement_update_cost', 'stock_on_hand.trg_stock_on_hand_value']) AS t
WHERE NOT EXISTS (
    SELECT FROM pg_trigger g
    WHERE g.tgrelid = to_regclass('core.' || split_part(t, '.', 1))
      AND g.tgname = split_part(t, '.', 2)
      AND g.tgenabled IN ('O', 'A'));

-- check: functions exist
SELECT f AS missing_function
FROM unnest(ARRAY['core.brand_key(text)', 'core.brand_code_base(text)', 'core.is_valid_email(text)',
                  'core.is_valid_phone(text)', 'core.is_valid_website(text)', 'core.update_brand_timestamp()',
                  'core.brand_default_code()', 'core.stock_on_hand_value()', 'core.update_stock_cost_on_movement()',
                  'core.refresh_all_inventory_views()']) AS f
WHERE to_regprocedure(f) IS NULL;

-- section: 5 Data values
-- check: the books hold numbers (no NaN)
-- NaN = NaN in PostgreSQL, so a NaN passes every balance check below while
-- making every sum it enters NaN. Also a drift check: nothing builds on it.
SELECT 'core.stock_on_hand' AS "table", id, quantity, cost_price, total_value AS value
FROM core.stock_on_hand
WHERE quantity = 'NaN' OR cost_price = 'NaN' OR total_value = 'NaN'
UNION ALL
SELECT 'core.stock_movement', id, quantity, cost_price, total_cost
FROM core.stock_movement
WHERE quantity = 'NaN' OR cost_price = 'NaN';

-- section: 5 Data coverage
-- drift-check: skip
-- check: every product with brand text is linked to a brand
SELECT id, sku, brand_from_supplier
FROM core.products
WHERE btrim(brand_from_supplier) <> '' AND brand_id IS NULL;

-- check: every stock row has its opening balance (quantity = sum of movements)
SELECT s.product_id, s.warehouse_id, s.quantity, coalesce(m.total, 0) AS sum_of_movements
FROM core.stock_on_hand s
LEFT JOIN (SELECT product_id, warehouse_id, sum(quantity) AS total
           FROM core.stock_movement GROUP BY 1, 2) m
       ON m.product_id = s.product_id AND m.warehouse_id = s.warehouse_id
WHERE s.quantity <> coalesce(m.total, 0);

-- check: stock value is quantity times unit cost
SELECT id, quantity, cost_price, total_value
FROM core.stock_on_hand
WHERE total_value IS DISTINCT FROM quantity * cost_price;

-- check: brand coverage is above the minimum
-- The seed's bar: more than 50% of products have a brand. The minimum is the
-- setting mantis.min_brand_coverage (mantis verify --min-brand-coverage).
SELECT coverage_pct AS brand_coverage_pct, minimum AS must_exceed
FROM (SELECT coalesce(round(count(brand_id) * 100.0 / nullif(count(*), 0), 1), 100) AS coverage_pct,
             coalesce(nullif(current_setting('mantis.min_brand_coverage', true), ''), '50')::numeric AS minimum
      FROM core.products) c
WHERE coverage_pct <= minimum;

-- check: cost coverage is above the minimum
-- The seed's bar: more than 70% of stock rows in stock have a unit cost
-- (mantis verify --min-cost-coverage).
SELECT coverage_pct AS cost_coverage_pct, minimum AS must_exceed
FROM (SELECT coalesce(round(count(cost_price) * 100.0 / nullif(count(*), 0), 1), 100) AS coverage_pct,
             coalesce(nullif(current_setting('mantis.min_cost_coverage', true), ''), '70')::numeric AS minimum
      FROM core.stock_on_hand WHERE quantity > 0) c
WHERE coverage_pct <= minimum;

-- section: 6 Orphaned records
-- drift-check: skip
-- check: no product points to a missing brand or category
SELECT p.id, p.brand_id, p.category_id
FROM core.products p
WHERE (p.brand_id IS NOT NULL AND NOT EXISTS (SELECT FROM core.brand b WHERE b.id = p.brand_id))
   OR (p.category_id IS NOT NULL AND NOT EXISTS (SELECT FROM core.categories c WHERE c.id = p.category_id));

-- check: no movement without its product or warehouse
SELECT m.id FROM core.stock_movement m
WHERE NOT EXISTS (SELECT FROM core.products p WHERE p.id = m.product_id)
   OR NOT EXISTS (SELECT FROM core.warehouses w WHERE w.id = m.warehouse_id);

-- section: 7 Materialized views
-- check: views are populated and have a unique index on plain columns
SELECT v AS view_not_refreshable_concurrently
FROM unnest(ARRAY['mv_inventory_valuation', 'mv_product_stock_summary', 'mv_low_stock_alerts']) AS v
WHERE NOT EXISTS (SELECT FROM pg_matviews m WHERE m.schemaname = 'core' AND m.matviewname = v AND m.ispopulated)
   OR NOT EXISTS (SELECT FROM pg_index x
                  WHERE x.indrelid = to_regclass('core.' || v) AND x.indisunique AND x.indisvalid
                    AND x.indpred IS NULL AND x.indexprs IS NULL);

-- check: a concurrent refresh of every view works
-- (it refreshes, as `mantis refresh` does: not part of the drift check, and
-- skipped, not failed, when a refresh by another session collides with it)
-- drift-check: skip
-- on-conflict: skip
SELECT view_name FROM core.refresh_all_inventory_views() WHERE NOT refreshed_concurrently;

-- section: 8 Performance
-- check: valuation reads the valuation view
-- uses: mv_inventory_valuation
SELECT warehouse_code, total_value FROM core.mv_inventory_valuation ORDER BY warehouse_code;

-- check: valuation from stock uses the covering index
-- uses: idx_stock_on_hand_valuation
SELECT warehouse_id, sum(total_value) FROM core.stock_on_hand
WHERE warehouse_id = '00000000-0000-0000-0000-000000000000' GROUP BY warehouse_id;

-- check: product search by name uses its case-insensitive index
-- uses: idx_products_name_lower
SELECT id, sku, name FROM core.products WHERE lower(name) LIKE 'drill%';

-- check: product search by SKU uses its case-insensitive index
-- uses: idx_products_sku_lower
SELECT id, sku, name FROM core.products WHERE lower(sku) LIKE 'sku-00001%';

-- check: full-text product search uses the text index
-- uses: idx_products_search
SELECT id, sku, name FROM core.products
WHERE to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || sku || ' ' || coalesce(description, ''))
      @@ plainto_tsquery('simple', 'cordless drill');

-- check: brand lookup uses the brand key index
-- uses: idx_brand_name_unique
SELECT id, code FROM core.brand WHERE core.brand_key(name) = core.brand_key('Bosch');

-- check: stock history of a product uses the movement index
-- uses: idx_stock_movement_product_time
SELECT warehouse_id, created_at, movement_type, quantity FROM core.stock_movement
WHERE product_id = '00000000-0000-0000-0000-000000000000';

-- check: low-stock alerts by severity use the alerts view index
-- uses: idx_mv_low_stock_severity
-- (a page of one severity in product order: when most alerts share a
-- severity, a bare filter is served as well by any index of the view)
SELECT sku, warehouse_code, quantity FROM core.mv_low_stock_alerts
WHERE severity = 'OUT_OF_STOCK' ORDER BY product_id LIMIT 100;

-- section: 9 Constraint tests
-- drift-check: skip
-- check: a zero-quantity movement is rejected
DO $$
BEGIN
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity)
    SELECT p.id, w.id, 'RECEIPT', 0 FROM core.products p, core.warehouses w LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a movement with quantity 0 was accepted';
    END IF;
EXCEPTION WHEN check_violation THEN
    NULL; -- expected: the database rejects it
END
$$;

-- check: an invalid supplier email is rejected
DO $$
BEGIN
    UPDATE core.suppliers SET contact_email = 'not-an-email'
    WHERE id = (SELECT id FROM core.suppliers LIMIT 1);
    IF FOUND THEN
        RAISE EXCEPTION 'an invalid contact email was accepted';
    END IF;
EXCEPTION WHEN check_violation THEN
    NULL; -- expected
END
$$;

-- check: a negative unit cost is rejected
DO $$
BEGIN
    UPDATE core.stock_on_hand SET cost_price = -1
    WHERE id = (SELECT id FROM core.stock_on_hand LIMIT 1);
    IF FOUND THEN
        RAISE EXCEPTION 'a negative unit cost was accepted';
    END IF;
EXCEPTION WHEN check_violation THEN
    NULL; -- expected
END
$$;

-- check: a brand name differing only in case and spacing is rejected
DO $$
BEGIN
    INSERT INTO core.brand (name, code) VALUES ('Verify  Brand 003', 'VERIFY_003_A');
    INSERT INTO core.brand (name, code) VALUES ('verify brand 003', 'VERIFY_003_B');
    RAISE EXCEPTION 'two brands named alike were accepted';
EXCEPTION WHEN unique_violation THEN
    NULL; -- expected
END
$$;

-- check: a malformed brand code is rejected
DO $$
BEGIN
    INSERT INTO core.brand (name, code) VALUES ('Verify Brand 003 code', 'not a code');
    RAISE EXCEPTION 'a malformed brand code was accepted';
EXCEPTION WHEN check_violation THEN
    NULL; -- expected
END
$$;

-- check: a product pointing to a missing brand is rejected
DO $$
BEGIN
    UPDATE core.products SET brand_id = '00000000-0000-0000-0000-000000000000'
    WHERE id = (SELECT id FROM core.products LIMIT 1);
    IF FOUND THEN
        RAISE EXCEPTION 'a product pointing to a missing brand was accepted';
    END IF;
EXCEPTION WHEN foreign_key_violation THEN
    NULL; -- expected
END
$$;

-- section: 10 Trigger tests
-- drift-check: skip
-- check: a receipt moves the quantity and the weighted average cost
DO $$
DECLARE
    before   core.stock_on_hand%ROWTYPE;
    after    core.stock_on_hand%ROWTYPE;
    expected numeric;
BEGIN
    SELECT * INTO before FROM core.stock_on_hand
    WHERE quantity > 0 AND cost_price IS NOT NULL ORDER BY id LIMIT 1;
    IF NOT FOUND THEN
        RETURN; -- nothing costed to test against
    END IF;
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price,
                                     reference_type, reference_number)
    VALUES (before.product_id, before.warehouse_id, 'RECEIPT', 10, 99.5, 'PURCHASE_ORDER', 'VERIFY-003');
    SELECT * INTO after FROM core.stock_on_hand WHERE id = before.id;
    expected := round((before.quantity * before.cost_price + 10 * 99.5) / (before.quantity + 10), 6);
    IF after.quantity <> before.quantity + 10 OR after.cost_price <> expected THEN
        RAISE EXCEPTION 'expected quantity % at cost %, found % at %',
            before.quantity + 10, expected, after.quantity, after.cost_price;
    END IF;
END
$$;

-- check: updating a brand sets its updated_at
WITH touched AS (
    UPDATE core.brand SET description = description
    WHERE id = (SELECT id FROM core.brand ORDER BY id LIMIT 1)
    RETURNING id, updated_at
)
SELECT id, updated_at AS found, now() AS expected FROM touched WHERE updated_at <> now();

-- section: 11 Summary
-- report: what migration 003 produced
SELECT
    (SELECT count(*) FROM core.brand)                                     AS brands,
    (SELECT count(brand_id) FROM core.products)                           AS products_with_brand,
    (SELECT count(*) FROM core.products)                                  AS products,
    (SELECT count(contact_email) FROM core.suppliers)                     AS suppliers_with_email,
    (SELECT count(*) FROM core.supplier_contact_issue)                    AS contact_issues,
    (SELECT count(cost_price) FROM core.stock_on_hand WHERE quantity > 0) AS stock_rows_costed,
    (SELECT count(*) FROM core.stock_on_hand WHERE quantity > 0)          AS stock_rows_in_stock,
    (SELECT count(*) FROM core.stock_movement)                            AS movements,
    (SELECT count(*) FROM core.mv_low_stock_alerts)                       AS low_stock_alerts;
