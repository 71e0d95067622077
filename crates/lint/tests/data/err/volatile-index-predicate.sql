CREATE INDEX stock_movement_recent ON core.stock_movement (created_at)
    WHERE created_at > now() - interval '90 days'; -- expect: volatile-index-predicate
CREATE INDEX stock_today ON core.stock_movement (product_id)
    WHERE created_at::date = CURRENT_DATE; -- expect: volatile-index-predicate
