INSERT INTO core.stock_movement (product_id, qty) VALUES ('00000000-0000-0000-0000-000000000001', 1); -- expect: validation-writes
DELETE FROM core.stock_movement WHERE qty = 1; -- expect: validation-writes
DO $$ BEGIN
    IF EXISTS (SELECT FROM core.products WHERE brand_id IS NULL) THEN RAISE EXCEPTION 'products without brand'; END IF;
END $$;
