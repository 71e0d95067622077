-- The stock rows the workload writes to: a random sample of about $1 rows
-- (block sample, then shuffled), with their quantity now.
SELECT id, product_id, warehouse_id, quantity
FROM core.stock_on_hand TABLESAMPLE SYSTEM ($2::float8::float4)
ORDER BY random()
LIMIT $1
