-- mantis: no-transaction
-- mantis: batch table=core.stock_on_hand key=id rows=1000
UPDATE core.stock_on_hand SET unit_cost = cost_price
WHERE id BETWEEN current_setting('mantis.batch_first')::uuid AND current_setting('mantis.batch_last')::uuid;
UPDATE core.stock_on_hand SET unit_cost = 0 WHERE id = '00000000-0000-0000-0000-000000000001';
