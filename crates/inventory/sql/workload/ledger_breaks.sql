-- Stock rows whose quantity is not the sum of their movements, stock rows
-- whose value is not the sum of their movements' value changes, all stock rows.
SELECT count(*) FILTER (WHERE s.quantity <> coalesce(m.quantity, 0)) AS quantity_breaks,
       count(*) FILTER (WHERE coalesce(s.total_value, 0) <> coalesce(m.value, 0)) AS value_breaks,
       count(*) AS stock_rows
FROM core.stock_on_hand s
LEFT JOIN (SELECT product_id, warehouse_id, sum(quantity) AS quantity, sum(value_delta) AS value
           FROM core.stock_movement GROUP BY 1, 2) m
       ON m.product_id = s.product_id AND m.warehouse_id = s.warehouse_id
