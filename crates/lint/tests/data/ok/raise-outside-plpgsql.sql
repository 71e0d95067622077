DO $$ BEGIN RAISE NOTICE 'migration done'; END $$;
