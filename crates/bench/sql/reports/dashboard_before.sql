-- Before 003: valuation, low-stock count and the 20 largest products, from the base tables.
SELECT w.code, sum(s.quantity * sp.cost_price) AS value
FROM core.stock_on_hand s
JOIN core.warehouses w ON w.id = s.warehouse_id
LEFT JOIN core.supplier_products sp ON sp.product_id = s.product_id AND sp.is_preferred
GROUP BY w.code;
SELECT count(*) FROM core.stock_on_hand s JOIN core.products p ON p.id = s.product_id
WHERE p.is_active AND p.min_stock_level > 0 AND s.quantity < p.min_stock_level;
SELECT p.sku, sum(s.quantity) AS quantity FROM core.products p
JOIN core.stock_on_hand s ON s.product_id = p.id
GROUP BY p.id ORDER BY quantity DESC LIMIT 20
