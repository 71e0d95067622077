-- The movements of one product (optionally in one warehouse), in the order
-- they were applied, with the running quantity and value per warehouse.
SELECT m.id, w.code AS warehouse, m.movement_type::text AS movement_type, m.quantity,
       m.cost_price AS unit_cost, m.value_delta,
       sum(m.quantity) OVER running AS quantity_after,
       sum(m.value_delta) OVER running AS value_after,
       m.reference_number AS reference, m.notes, m.seq, m.created_at
FROM core.stock_movement m
JOIN core.products p ON p.id = m.product_id
JOIN core.warehouses w ON w.id = m.warehouse_id
WHERE p.sku = $1 AND ($2::text IS NULL OR w.code = $2::text)
WINDOW running AS (PARTITION BY m.warehouse_id ORDER BY m.seq NULLS FIRST, m.created_at, m.id)
ORDER BY m.seq NULLS FIRST, m.created_at, m.id
LIMIT $3
