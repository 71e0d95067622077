DO $$
BEGIN
    INSERT INTO core.brand (code, name) VALUES ('ACME', 'Acme');
EXCEPTION WHEN unique_violation THEN
    RAISE NOTICE 'brand ACME already there';
END $$;
DO $$
BEGIN
    ALTER TABLE core.products ALTER COLUMN cost_price TYPE numeric(18,6);
EXCEPTION WHEN others THEN
    RAISE WARNING 'retyping failed: %', SQLERRM;
    RAISE;
END $$;
