DROP TABLE IF EXISTS core.products_backup; -- expect: overwrite-backup
CREATE TABLE core.products_backup AS SELECT * FROM core.products;
