-- Every brand with its code and how many products carry it.
SELECT b.code, b.name, count(p.id) AS products
FROM core.brand b
LEFT JOIN core.products p ON p.brand_id = b.id
GROUP BY b.id, b.code, b.name
ORDER BY b.code
