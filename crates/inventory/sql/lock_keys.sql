-- Locks the stock rows a batch touches, in one canonical order (product,
-- warehouse), so two batches touching the same rows cannot deadlock.
-- Rows that do not exist yet are created first (with quantity 0), in the same order.
WITH keys AS (
    SELECT DISTINCT k.product_id, k.warehouse_id
    FROM unnest($1::uuid[], $2::uuid[]) AS k(product_id, warehouse_id)
), created AS (
    INSERT INTO core.stock_on_hand (product_id, warehouse_id, quantity)
    SELECT product_id, warehouse_id, 0 FROM keys
    ORDER BY product_id, warehouse_id
    ON CONFLICT (product_id, warehouse_id) DO NOTHING
    RETURNING id
)
SELECT count(*) FROM created
