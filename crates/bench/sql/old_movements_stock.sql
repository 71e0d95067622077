-- The net of old_movements.sql on each stock row in [$2, $3] ($1 movements
-- each: $1 / 2 units), applied as the ledger itself writes a stock row
-- (the direct-write capture is skipped: the movements are already there).
-- 003's trigger keeps total_value = quantity x unit cost.
SELECT set_config('mantis.ledger_posting', 'on', false);
UPDATE core.stock_on_hand SET quantity = quantity + $1::int / 2
WHERE id BETWEEN $2::uuid AND $3::uuid;
