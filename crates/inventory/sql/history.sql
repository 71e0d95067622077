-- The movements of one product (optionally in one warehouse), in the order
-- they were applied, with the running quantity and value per warehouse.
-- Archived movements are read from the archive (migration 005) in their
-- place; the carried balances that stand for them in the hot table are not
-- shown, so the story and its running totals are the full ones.
WITH moves AS (
    SELECT m.id, m.warehouse_id, m.movement_type, m.quantity, m.cost_price, m.value_delta,
           m.reference_number, m.notes, m.seq, m.created_at, false AS archived
    FROM core.stock_movement m
    JOIN core.products p ON p.id = m.product_id
    WHERE p.sku = $1
      AND NOT EXISTS (SELECT FROM core.stock_movement_archive c WHERE c.carried_by = m.id)
    UNION ALL
    SELECT a.id, a.warehouse_id, a.movement_type, a.quantity, a.cost_price, a.value_delta,
           a.reference_number, a.notes, a.seq, a.created_at, true AS archived
    FROM core.stock_movement_archive a
    JOIN core.products p ON p.id = a.product_id
    WHERE p.sku = $1
      AND NOT EXISTS (SELECT FROM core.stock_movement_archive c WHERE c.carried_by = a.id)
)
SELECT m.id, w.code AS warehouse, m.movement_type::text AS movement_type, m.quantity,
       m.cost_price AS unit_cost, m.value_delta,
       sum(m.quantity) OVER running AS quantity_after,
       sum(m.value_delta) OVER running AS value_after,
       m.reference_number AS reference, m.notes, m.seq, m.created_at, m.archived
FROM moves m
JOIN core.warehouses w ON w.id = m.warehouse_id
WHERE $2::text IS NULL OR w.code = $2::text
WINDOW running AS (PARTITION BY m.warehouse_id ORDER BY m.seq NULLS FIRST, m.created_at, m.id)
ORDER BY m.seq NULLS FIRST, m.created_at, m.id
LIMIT $3
