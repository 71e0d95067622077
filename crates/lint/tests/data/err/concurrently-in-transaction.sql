-- mantis: no-transaction
BEGIN;
CREATE INDEX CONCURRENTLY products_brand ON core.products (brand_id); -- expect: concurrently-in-transaction
COMMIT;
