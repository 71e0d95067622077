ALTER TABLE core.products ADD CONSTRAINT products_brand_nn CHECK (brand_id IS NOT NULL) NOT VALID;
ALTER TABLE core.products VALIDATE CONSTRAINT products_brand_nn;
ALTER TABLE core.products ALTER COLUMN brand_id SET NOT NULL;
