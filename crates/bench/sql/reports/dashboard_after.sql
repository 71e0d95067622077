-- After 003: the same three from the views.
SELECT warehouse_code, total_value FROM core.mv_inventory_valuation;
SELECT count(*) FROM core.mv_low_stock_alerts;
SELECT sku, total_quantity FROM core.mv_product_stock_summary ORDER BY total_quantity DESC LIMIT 20
