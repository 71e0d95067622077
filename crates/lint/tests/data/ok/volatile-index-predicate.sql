CREATE INDEX stock_movement_recent ON core.stock_movement (created_at)
    WHERE created_at > '2026-01-01';
CREATE INDEX products_lower_name ON core.products (lower(name));
