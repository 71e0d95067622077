-- Legacy code writing the quantity on hand directly.
UPDATE core.stock_on_hand SET quantity = quantity + $2, updated_at = now() WHERE id = $1
