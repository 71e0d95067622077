-- The seed's quick health check after migration 003 (`mantis health` runs it).
SELECT
    EXISTS (SELECT 1 FROM core.brand)          AS brand_exists,
    EXISTS (SELECT 1 FROM core.stock_movement) AS movement_exists,
    (SELECT count(*) FROM core.brand)          AS brand_count,
    (SELECT round(count(*) FILTER (WHERE brand_id IS NOT NULL) * 100.0 / nullif(count(*), 0), 1)
     FROM core.products)                       AS brand_coverage_pct,
    (SELECT round(count(*) FILTER (WHERE cost_price IS NOT NULL) * 100.0 / nullif(count(*), 0), 1)
     FROM core.stock_on_hand WHERE quantity > 0) AS cost_coverage_pct;
