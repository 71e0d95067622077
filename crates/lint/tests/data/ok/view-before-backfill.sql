CREATE MATERIALIZED VIEW core.brand_summary AS
    SELECT brand_id, count(*) AS n FROM core.products GROUP BY brand_id;
UPDATE core.products p SET brand_id = b.id FROM core.brand b WHERE b.name = p.brand_name;
REFRESH MATERIALIZED VIEW core.brand_summary;
