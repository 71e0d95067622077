ALTER TABLE core.products ADD COLUMN is_active boolean NOT NULL DEFAULT true;
ALTER TABLE core.products ADD COLUMN brand_id uuid;
CREATE TABLE core.brand (id uuid NOT NULL);
ALTER TABLE core.brand ADD COLUMN code text NOT NULL;
