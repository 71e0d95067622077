-- Low-stock alerts, worst first, from the alerts view. $1: severities to show.
SELECT sku, name, warehouse_code AS warehouse, quantity, min_stock_level,
       units_below_min AS shortfall, severity, last_refresh AS refreshed_at
FROM core.mv_low_stock_alerts
WHERE severity = ANY($1::text[])
ORDER BY CASE severity WHEN 'OUT_OF_STOCK' THEN 0 WHEN 'CRITICAL' THEN 1 ELSE 2 END,
         units_below_min DESC, sku, warehouse_code
LIMIT $2
