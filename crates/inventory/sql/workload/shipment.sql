-- A shipment through the ledger (refused when it would leave negative stock
-- where the rules of 004 apply).
INSERT INTO core.stock_movement
    (product_id, warehouse_id, movement_type, quantity, reference_type, reference_number)
VALUES ($1, $2, 'SHIPMENT', $3, 'SALES_ORDER', 'WORKLOAD')
