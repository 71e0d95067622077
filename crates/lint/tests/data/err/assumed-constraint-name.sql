ALTER TABLE core.stock_movement DROP CONSTRAINT IF EXISTS stock_movement_product_id_fkey; -- expect: assumed-constraint-name
ALTER TABLE core.stock_movement ADD CONSTRAINT stock_movement_product_id_fkey
    FOREIGN KEY (product_id) REFERENCES core.products (id) ON DELETE RESTRICT NOT VALID;
