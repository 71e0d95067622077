-- mantis: no-transaction
DROP INDEX CONCURRENTLY IF EXISTS core.products_legacy_code;
