-- Full-text product search (same query before and after).
SELECT id, sku FROM core.products
WHERE to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || sku || ' ' || coalesce(description, ''))
      @@ plainto_tsquery('simple', 'pressure washer')
LIMIT 50
