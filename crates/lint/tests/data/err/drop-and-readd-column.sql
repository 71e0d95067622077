ALTER TABLE core.products DROP COLUMN cost_price; -- expect: drop-and-readd-column
ALTER TABLE core.products ADD COLUMN cost_price numeric(18,6);
