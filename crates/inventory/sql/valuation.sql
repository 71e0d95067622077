-- Stock value per warehouse, from the valuation view (as of its last refresh).
SELECT warehouse_code, warehouse_name, product_count, total_units, round(total_value, 2),
       uncosted_rows, last_refresh
FROM core.mv_inventory_valuation
ORDER BY warehouse_code
