-- The stock rows the workload writes to: about $1 random rows (a block
-- sample of some 3 x $1 rows, shuffled), with their quantity now.
SELECT id, product_id, warehouse_id, quantity
FROM core.stock_on_hand TABLESAMPLE SYSTEM (
    (SELECT least(100, greatest(0.01, $1::bigint * 300.0 / greatest(reltuples, 1)))::float4
     FROM pg_class WHERE oid = 'core.stock_on_hand'::regclass))
ORDER BY random()
LIMIT $1
