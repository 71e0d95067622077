-- Before 003: products of a brand by its free-text spelling.
SELECT count(*) FROM core.products WHERE lower(btrim(brand_from_supplier)) = 'bosch'
