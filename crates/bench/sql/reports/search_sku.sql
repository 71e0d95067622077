-- Case-insensitive search by SKU prefix (same query before and after).
SELECT id, sku, name FROM core.products WHERE lower(sku) LIKE 'sku-00012%' LIMIT 50
