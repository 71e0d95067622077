SELECT s.id
FROM core.stock_on_hand s
JOIN unnest($1::uuid[], $2::uuid[]) AS k(product_id, warehouse_id)
  ON s.product_id = k.product_id AND s.warehouse_id = k.warehouse_id
ORDER BY s.product_id, s.warehouse_id
FOR UPDATE OF s
