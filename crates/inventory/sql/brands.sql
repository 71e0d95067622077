SELECT b.code, b.name, b.is_active, count(p.id) AS products
FROM core.brand b
LEFT JOIN core.products p ON p.brand_id = b.id
GROUP BY b.id
ORDER BY b.name
