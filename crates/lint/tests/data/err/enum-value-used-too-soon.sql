ALTER TYPE core.movement_type ADD VALUE 'RETURN'; -- expect: enum-value-used-too-soon
UPDATE core.stock_movement SET movement_type = 'RETURN' WHERE reference LIKE 'RMA%';
