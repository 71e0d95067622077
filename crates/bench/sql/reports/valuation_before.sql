-- Before 003: stock valued at the preferred supplier's price, aggregated from the base tables.
SELECT w.code, sum(s.quantity * sp.cost_price) AS value
FROM core.stock_on_hand s
JOIN core.warehouses w ON w.id = s.warehouse_id
LEFT JOIN core.supplier_products sp ON sp.product_id = s.product_id AND sp.is_preferred
GROUP BY w.code
