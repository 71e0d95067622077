UPDATE core.stock_on_hand
SET unit_cost = (qty * COALESCE(unit_cost, 0) + 10 * 4.50) / (qty + 10) -- expect: null-as-zero-in-average
WHERE id = '00000000-0000-0000-0000-000000000001';
