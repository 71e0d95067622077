-- Checks of migration 001. Each check is a SELECT returning the offending rows:
-- zero rows means it passes.

-- section: 1 Schema
-- check: every core table exists
SELECT t AS missing_table
FROM unnest(ARRAY['users', 'suppliers', 'categories', 'products',
                  'supplier_products', 'warehouses', 'stock_on_hand']) AS t
WHERE to_regclass('core.' || t) IS NULL;

-- check: every core table has a uuid primary key named id
-- (the tables of 001; later migrations state their own keys)
SELECT c.relname AS table_without_uuid_id
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'core'
WHERE c.relkind = 'r'
  AND c.relname IN ('users', 'suppliers', 'categories', 'products',
                    'supplier_products', 'warehouses', 'stock_on_hand')
  AND NOT EXISTS (
      SELECT 1
      FROM pg_constraint k
      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
      WHERE k.conrelid = c.oid AND k.contype = 'p'
        AND a.attname = 'id' AND a.atttypid = 'uuid'::regtype);

-- check: quantities and prices are numeric, never floating point
SELECT table_name, column_name, data_type
FROM information_schema.columns
WHERE table_schema = 'core'
  AND column_name IN ('quantity', 'cost_price', 'min_stock_level', 'max_stock_level')
  AND data_type <> 'numeric';

-- check: every column of migration 001 exists with its type
-- The drift that broke the original package in production: tables renamed,
-- keys of another type. Each row names what 001 defines and what was found.
WITH expected (table_name, column_name, data_type) AS (VALUES
    ('users', 'id', 'uuid'), ('users', 'email', 'text'), ('users', 'display_name', 'text'),
    ('suppliers', 'id', 'uuid'), ('suppliers', 'name', 'text'), ('suppliers', 'description', 'text'),
    ('suppliers', 'is_active', 'boolean'), ('suppliers', 'metadata', 'jsonb'),
    ('categories', 'id', 'uuid'), ('categories', 'name', 'text'), ('categories', 'parent_id', 'uuid'),
    ('products', 'id', 'uuid'), ('products', 'sku', 'text'), ('products', 'name', 'text'),
    ('products', 'description', 'text'), ('products', 'category_id', 'uuid'),
    ('products', 'brand_from_supplier', 'text'), ('products', 'brand_id', 'uuid'),
    ('products', 'unit_of_measure', 'text'), ('products', 'min_stock_level', 'numeric(18,4)'),
    ('products', 'max_stock_level', 'numeric(18,4)'), ('products', 'is_active', 'boolean'),
    ('supplier_products', 'id', 'uuid'), ('supplier_products', 'supplier_id', 'uuid'),
    ('supplier_products', 'product_id', 'uuid'), ('supplier_products', 'supplier_sku', 'text'),
    ('supplier_products', 'cost_price', 'numeric(18,4)'), ('supplier_products', 'currency', 'text'),
    ('supplier_products', 'is_preferred', 'boolean'),
    ('warehouses', 'id', 'uuid'), ('warehouses', 'code', 'text'), ('warehouses', 'name', 'text'),
    ('warehouses', 'is_active', 'boolean'),
    ('stock_on_hand', 'id', 'uuid'), ('stock_on_hand', 'product_id', 'uuid'),
    ('stock_on_hand', 'warehouse_id', 'uuid'), ('stock_on_hand', 'quantity', 'numeric(18,4)')
)
SELECT 'core.' || e.table_name AS "table", e.column_name AS "column", e.data_type AS expected,
       CASE WHEN to_regclass('core.' || e.table_name) IS NULL THEN 'table missing'
            WHEN a.attname IS NULL THEN 'column missing'
            ELSE format_type(a.atttypid, a.atttypmod) END AS found
FROM expected e
LEFT JOIN pg_attribute a
       ON a.attrelid = to_regclass('core.' || e.table_name)
      AND a.attname = e.column_name AND a.attnum > 0 AND NOT a.attisdropped
WHERE a.attname IS NULL OR format_type(a.atttypid, a.atttypmod) <> e.data_type;

-- section: 2 Constraints
-- check: one stock row per product and warehouse
SELECT 'core.stock_on_hand (product_id, warehouse_id) is not unique' AS problem
WHERE NOT EXISTS (
    SELECT 1 FROM pg_constraint
    WHERE conrelid = 'core.stock_on_hand'::regclass AND contype = 'u'
      AND conkey = ARRAY[
          (SELECT attnum FROM pg_attribute WHERE attrelid = 'core.stock_on_hand'::regclass AND attname = 'product_id'),
          (SELECT attnum FROM pg_attribute WHERE attrelid = 'core.stock_on_hand'::regclass AND attname = 'warehouse_id')]::int2[]);

-- check: product SKUs and warehouse codes are unique
SELECT r AS not_unique
FROM unnest(ARRAY['core.products.sku', 'core.warehouses.code']) AS r
WHERE NOT EXISTS (
    SELECT 1 FROM pg_constraint k
    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
    WHERE k.contype = 'u' AND array_length(k.conkey, 1) = 1
      AND k.conrelid::regclass::text || '.' || a.attname = r);

-- section: 5 Data values
-- check: quantities, costs and stock levels are numbers (no NaN)
-- PostgreSQL's numeric holds 'NaN', and NaN = NaN there, so one NaN passes
-- every equality the books are checked with while making every sum NaN:
-- migration 003 would carry it into the append-only ledger. Refused here,
-- before 003 runs. (numeric(18,4) cannot hold ±Infinity: NaN is the one
-- non-finite value these columns can hold.) Each row says how to fix it.
SELECT 'core.stock_on_hand' AS "table", id, 'quantity' AS "column",
       format('UPDATE core.stock_on_hand SET quantity = <counted quantity> WHERE id = %L', id) AS fix
FROM core.stock_on_hand WHERE quantity = 'NaN'
UNION ALL
SELECT 'core.supplier_products', id, 'cost_price',
       format('UPDATE core.supplier_products SET cost_price = NULL WHERE id = %L  -- or the real price', id)
FROM core.supplier_products WHERE cost_price = 'NaN'
UNION ALL
SELECT 'core.products', id, 'min_stock_level',
       format('UPDATE core.products SET min_stock_level = 0 WHERE id = %L  -- or the real level', id)
FROM core.products WHERE min_stock_level = 'NaN'
UNION ALL
SELECT 'core.products', id, 'max_stock_level',
       format('UPDATE core.products SET max_stock_level = NULL WHERE id = %L  -- or the real level', id)
FROM core.products WHERE max_stock_level = 'NaN';

-- section: 6 Orphaned records
-- drift-check: skip
-- check: no stock without its product or warehouse
SELECT s.id FROM core.stock_on_hand s
LEFT JOIN core.products p ON p.id = s.product_id
LEFT JOIN core.warehouses w ON w.id = s.warehouse_id
WHERE p.id IS NULL OR w.id IS NULL;
