ALTER TABLE core.stock_movement ADD COLUMN created_at timestamptz DEFAULT now();
ALTER TABLE core.stock_movement ADD COLUMN movement_ref uuid;
ALTER TABLE core.stock_movement ALTER COLUMN movement_ref SET DEFAULT gen_random_uuid();
ALTER TABLE core.products ALTER COLUMN name TYPE text;
