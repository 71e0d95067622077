UPDATE core.stock_on_hand
SET unit_cost = CASE WHEN unit_cost IS NULL THEN 4.50 ELSE (qty * unit_cost + 10 * 4.50) / (qty + 10) END,
    qty = COALESCE(qty, 0) + 10
WHERE id = '00000000-0000-0000-0000-000000000001';
