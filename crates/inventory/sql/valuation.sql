-- Stock value per warehouse, from the valuation view (as of its last refresh).
SELECT warehouse_code, warehouse_name, products_in_stock, total_quantity, round(total_value, 2),
       uncosted_rows, refreshed_at
FROM core.mv_inventory_valuation
ORDER BY warehouse_code
