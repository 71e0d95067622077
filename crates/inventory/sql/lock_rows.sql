-- Locks the stock rows a batch touches, in the same canonical order, so two
-- batches touching the same rows cannot deadlock.
SELECT s.id
FROM core.stock_on_hand s
JOIN core.products p ON p.id = s.product_id
JOIN core.warehouses w ON w.id = s.warehouse_id
JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS k(sku, code)
  ON p.sku = k.sku AND w.code = k.code
ORDER BY s.product_id, s.warehouse_id
FOR UPDATE OF s
