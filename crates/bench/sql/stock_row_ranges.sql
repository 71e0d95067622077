-- Key ranges of stock rows, $1 rows each: [first, last].
SELECT min(id::text)::uuid AS first, max(id::text)::uuid AS last
FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / $1::bigint AS chunk FROM core.stock_on_hand) r
GROUP BY chunk
ORDER BY chunk
