CREATE TABLE core.stock_movement (product_id uuid, unit_cost numeric(18,6));
INSERT INTO core.stock_movement (product_id, unit_cost) SELECT product_id, cost_price FROM core.stock_on_hand;
UPDATE core.stock_on_hand s SET unit_cost = (SELECT avg(m.unit_cost) FROM core.stock_movement m WHERE m.product_id = s.product_id);
