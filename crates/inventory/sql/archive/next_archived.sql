-- The next key range of products with archived movements after $1 (NULL:
-- from the start), at most $2 of them: the range one unarchive batch covers.
SELECT ids[1] AS first, ids[cardinality(ids)] AS last, coalesce(cardinality(ids), 0)::bigint AS products
FROM (SELECT array_agg(product_id ORDER BY product_id) AS ids
      FROM (SELECT DISTINCT product_id FROM core.stock_movement_archive
            WHERE $1::uuid IS NULL OR product_id > $1::uuid
            ORDER BY product_id LIMIT $2::bigint) r) a
