-- Creates the stock rows a batch touches that do not exist yet (quantity 0),
-- in one canonical order (product, warehouse). Unknown SKUs and codes are
-- left out here; the insert refuses them.
INSERT INTO core.stock_on_hand (product_id, warehouse_id, quantity)
SELECT DISTINCT p.id, w.id, 0
FROM unnest($1::text[], $2::text[]) AS k(sku, code)
JOIN core.products p ON p.sku = k.sku
JOIN core.warehouses w ON w.code = k.code
ORDER BY p.id, w.id
ON CONFLICT (product_id, warehouse_id) DO NOTHING
