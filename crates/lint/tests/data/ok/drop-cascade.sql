ALTER TABLE core.stock_movement ALTER COLUMN movement_type TYPE text;
DROP TYPE core.movement_type;
