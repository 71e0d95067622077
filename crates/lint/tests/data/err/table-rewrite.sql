ALTER TABLE core.stock_movement ADD COLUMN movement_ref uuid DEFAULT gen_random_uuid(); -- expect: table-rewrite
ALTER TABLE core.products ALTER COLUMN cost_price TYPE numeric(18,6); -- expect: table-rewrite
ALTER TABLE core.products ADD COLUMN margin numeric GENERATED ALWAYS AS (sale_price - cost_price) STORED; -- expect: table-rewrite
