CREATE TABLE core.stock_movement (
    id uuid PRIMARY KEY,
    product_id uuid REFERENCES core.products (id) ON DELETE RESTRICT
);
CREATE TABLE core.product_tags (product_id uuid REFERENCES core.products (id) ON DELETE CASCADE);
