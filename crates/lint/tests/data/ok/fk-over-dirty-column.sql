ALTER TABLE core.products
    ADD CONSTRAINT products_brand_fk FOREIGN KEY (brand_id) REFERENCES core.brand (id) NOT VALID;
ALTER TABLE core.stock ADD COLUMN brand_id uuid;
ALTER TABLE core.stock ADD CONSTRAINT stock_brand_fk FOREIGN KEY (brand_id) REFERENCES core.brand (id);
