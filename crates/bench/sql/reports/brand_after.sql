-- After 003: the brand by its key, then its products.
SELECT count(*) FROM core.brand b JOIN core.products p ON p.brand_id = b.id
WHERE core.brand_key(b.name) = core.brand_key('Bosch')
