-- A receipt through the ledger: the posting trigger moves the stock row.
INSERT INTO core.stock_movement
    (product_id, warehouse_id, movement_type, quantity, cost_price, reference_type, reference_number)
VALUES ($1, $2, 'RECEIPT', $3, $4, 'PURCHASE_ORDER', 'WORKLOAD')
