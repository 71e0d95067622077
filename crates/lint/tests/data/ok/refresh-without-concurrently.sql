CREATE MATERIALIZED VIEW core.brand_counts AS SELECT brand_id, count(*) AS n FROM core.products GROUP BY brand_id WITH NO DATA;
REFRESH MATERIALIZED VIEW core.brand_counts;
REFRESH MATERIALIZED VIEW CONCURRENTLY core.inventory_valuation;
