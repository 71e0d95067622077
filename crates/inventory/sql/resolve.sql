-- Which of the SKUs ($1) and warehouse codes ($2) exist: ('product'|'warehouse', name).
SELECT 'product' AS kind, sku AS name FROM core.products WHERE sku = ANY($1::text[])
UNION ALL
SELECT 'warehouse', code FROM core.warehouses WHERE code = ANY($2::text[])
