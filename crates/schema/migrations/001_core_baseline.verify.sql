-- Checks of migration 001. Each check is a SELECT returning the offending rows:
-- zero rows means it passes.

-- section: 1 Schema
-- check: every core table exists
SELECT t AS missing_table
FROM unnest(ARRAY['users', 'suppliers', 'categories', 'products',
                  'supplier_products', 'warehouses', 'stock_on_hand']) AS t
WHERE to_regclass('core.' || t) IS NULL;

-- check: every core table has a uuid primary key named id
SELECT c.relname AS table_without_uuid_id
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'core'
WHERE c.relkind = 'r'
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

-- section: 6 Orphaned records
-- check: no stock without its product or warehouse
SELECT s.id FROM core.stock_on_hand s
LEFT JOIN core.products p ON p.id = s.product_id
LEFT JOIN core.warehouses w ON w.id = s.warehouse_id
WHERE p.id IS NULL OR w.id IS NULL;
