ALTER TABLE core.products
    ADD CONSTRAINT products_brand_fk FOREIGN KEY (brand_id) REFERENCES core.brand (id); -- expect: fk-over-dirty-column
