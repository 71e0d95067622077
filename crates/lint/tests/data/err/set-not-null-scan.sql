ALTER TABLE core.products ALTER COLUMN brand_id SET NOT NULL; -- expect: set-not-null-scan
