-- Movements of the past ($1 per stock row: receipts of 2 and shipments of 1
-- in turn, at the row's unit cost) for the stock rows whose id falls in
-- [$2, $3], created in 2025: what `ledger archive --before 2026-01-01`
-- moves. Written as replayed facts (the posting trigger is skipped by its
-- WHEN clause; the values are given); old_movements_stock.sql then adds
-- their net quantity to the rows, so the books still balance.
WITH rows AS (
    SELECT s.product_id, s.warehouse_id, s.cost_price, p.unit_of_measure
    FROM core.stock_on_hand s JOIN core.products p ON p.id = s.product_id
    WHERE s.id BETWEEN $2::uuid AND $3::uuid
)
INSERT INTO core.stock_movement
    (product_id, warehouse_id, movement_type, quantity, unit_of_measure, cost_price, value_delta, created_at)
SELECT r.product_id, r.warehouse_id,
       CASE WHEN g % 2 = 0 THEN 'RECEIPT' ELSE 'SHIPMENT' END::core.movement_type,
       CASE WHEN g % 2 = 0 THEN 2 ELSE -1 END,
       coalesce(r.unit_of_measure, 'EA'), r.cost_price,
       CASE WHEN g % 2 = 0 THEN 2 ELSE -1 END * r.cost_price,
       timestamptz '2025-01-01 00:00Z' + ((g / 2) % 360) * interval '1 day' + (g % 2) * interval '1 hour'
FROM rows r CROSS JOIN generate_series(0, $1::int - 1) AS g
