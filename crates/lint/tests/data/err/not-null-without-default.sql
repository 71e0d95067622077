ALTER TABLE core.products ADD COLUMN brand_id uuid NOT NULL; -- expect: not-null-without-default
