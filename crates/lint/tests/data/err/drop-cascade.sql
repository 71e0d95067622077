CREATE TABLE core.movement_backup AS SELECT * FROM core.stock_movement;
DROP TYPE core.movement_type CASCADE; -- expect: drop-cascade
