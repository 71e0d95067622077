CREATE TABLE core.stock_movement (
    id uuid PRIMARY KEY,
    product_id uuid REFERENCES core.products (id) ON DELETE CASCADE -- expect: cascade-into-audit
);
