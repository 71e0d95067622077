-- Stock value per warehouse, from the valuation view (as of its last refresh).
SELECT warehouse_code, warehouse_name, products_in_stock, total_quantity, total_value,
       uncosted_rows, refreshed_at
FROM core.mv_inventory_valuation
ORDER BY warehouse_code
