ALTER TABLE core.products ALTER COLUMN cost_price TYPE numeric(18,6) USING cost_price::numeric(18,6);
ALTER TABLE core.products DROP COLUMN legacy_code;
