CREATE INDEX products_brand ON core.products (brand_id); -- expect: index-without-concurrently
