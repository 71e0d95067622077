CREATE MATERIALIZED VIEW core.brand_counts AS
    SELECT brand_id, count(*) AS n FROM core.products GROUP BY brand_id;
CREATE INDEX brand_counts_brand ON core.brand_counts (brand_id);
REFRESH MATERIALIZED VIEW CONCURRENTLY core.brand_counts; -- expect: refresh-concurrently-needs-unique
