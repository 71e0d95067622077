-- Case-insensitive product search by name prefix (same query before and after).
SELECT id, sku, name FROM core.products
WHERE is_active AND lower(name) LIKE 'galvanised pressure%'
ORDER BY lower(name)
LIMIT 50
