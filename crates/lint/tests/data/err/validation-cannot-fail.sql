DO $$ BEGIN -- expect: validation-cannot-fail
    IF EXISTS (SELECT FROM core.products WHERE brand_id IS NULL) THEN
        RAISE NOTICE 'products without brand';
    END IF;
    RAISE NOTICE 'SUCCESS';
END $$;
