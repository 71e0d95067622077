-- mantis: no-transaction
VACUUM FULL core.stock_movement; -- expect: blocking-maintenance
REINDEX TABLE core.products; -- expect: blocking-maintenance
