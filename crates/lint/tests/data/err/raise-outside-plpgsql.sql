ALTER TABLE core.products ADD COLUMN note text;
RAISE NOTICE 'migration done'; -- expect: raise-outside-plpgsql
