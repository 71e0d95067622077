-- Stock value per warehouse, from the valuation view (as of its last refresh).
SELECT warehouse_code AS warehouse, warehouse_name AS name, product_count AS products_in_stock,
       total_units AS quantity, round(total_value, 2) AS value, uncosted_rows,
       last_refresh AS refreshed_at
FROM core.mv_inventory_valuation
ORDER BY warehouse_code
