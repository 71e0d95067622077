CREATE TABLE core.stock_movement (product_id uuid, unit_cost numeric(18,6));
ALTER TABLE core.stock_on_hand ADD COLUMN unit_cost numeric(18,6);
UPDATE core.stock_on_hand s SET unit_cost = (SELECT avg(m.unit_cost) FROM core.stock_movement m WHERE m.product_id = s.product_id); -- expect: backfill-from-new-table
