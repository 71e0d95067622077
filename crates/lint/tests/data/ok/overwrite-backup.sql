CREATE TABLE core.products_backup_20261203 AS SELECT * FROM core.products;
