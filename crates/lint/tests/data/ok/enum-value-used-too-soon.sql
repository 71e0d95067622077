-- mantis: no-transaction
ALTER TYPE core.movement_type ADD VALUE IF NOT EXISTS 'RETURN';
UPDATE core.stock_movement SET movement_type = 'RETURN' WHERE reference LIKE 'RMA%';
