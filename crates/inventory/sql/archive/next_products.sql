-- The next key range of products (by id) after $1 (NULL: from the start),
-- at most $2 of them: the range one archive batch covers.
SELECT ids[1] AS first, ids[cardinality(ids)] AS last, coalesce(cardinality(ids), 0)::bigint AS products
FROM (SELECT array_agg(id ORDER BY id) AS ids
      FROM (SELECT id FROM core.products
            WHERE $1::uuid IS NULL OR id > $1::uuid
            ORDER BY id LIMIT $2::bigint) r) a
