-- mantis: no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS products_brand ON core.products (brand_id);
