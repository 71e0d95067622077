-- After 003: the valuation view.
SELECT warehouse_code, total_value FROM core.mv_inventory_valuation
