-- (product id, sku, warehouse id, warehouse code) pairs to post to.
SELECT p.id AS product, p.sku, w.id AS warehouse, w.code
FROM core.products p CROSS JOIN core.warehouses w
ORDER BY p.sku, w.code
LIMIT $1
