-- Stock per product across warehouses, from the summary view. $1 filters by
-- SKU prefix or case-insensitive name fragment; $2 limits the rows.
SELECT sku, name, brand_name AS brand, total_quantity AS quantity,
       round(total_value, 2) AS value, warehouse_count AS warehouses_in_stock,
       min_stock_level, below_minimum, last_refresh AS refreshed_at
FROM core.mv_product_stock_summary
WHERE $1::text IS NULL
   OR lower(sku) LIKE lower($1::text) || '%'
   OR lower(name) LIKE '%' || lower($1::text) || '%'
ORDER BY total_value DESC NULLS LAST, sku
LIMIT $2
