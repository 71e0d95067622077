-- mantis: no-transaction
VACUUM (ANALYZE) core.stock_movement;
REINDEX TABLE CONCURRENTLY core.products;
