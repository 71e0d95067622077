ALTER TABLE core.products ADD COLUMN brand_id uuid REFERENCES core.brand (id);
