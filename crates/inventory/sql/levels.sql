-- Live stock levels (not a view: as of now), filtered by SKU and warehouse.
SELECT p.sku, p.name, w.code AS warehouse, s.quantity, s.cost_price AS unit_cost,
       round(s.total_value, 2) AS value, p.min_stock_level,
       s.quantity < p.min_stock_level AS below_minimum
FROM core.stock_on_hand s
JOIN core.products p ON p.id = s.product_id
JOIN core.warehouses w ON w.id = s.warehouse_id
WHERE ($1::text IS NULL OR p.sku = $1::text)
  AND ($2::text IS NULL OR w.code = $2::text)
ORDER BY p.sku, w.code
LIMIT $3
