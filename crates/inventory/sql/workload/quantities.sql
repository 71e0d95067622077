-- The quantity on hand of the given stock rows now.
SELECT id, quantity FROM core.stock_on_hand WHERE id = ANY ($1)
