DO $$ BEGIN
    IF EXISTS (SELECT FROM core.products WHERE brand_id IS NULL) THEN RAISE EXCEPTION 'products without brand'; END IF;
END $$;
