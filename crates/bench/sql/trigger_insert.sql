-- The same statement into the ledger itself: only the database's rules added.
INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, unit_of_measure, cost_price)
SELECT m.product_id, m.warehouse_id, 'RECEIPT', m.quantity, 'EA', m.cost_price
FROM unnest($1::uuid[], $2::uuid[], $3::numeric[], $4::numeric[]) AS m(product_id, warehouse_id, quantity, cost_price)
