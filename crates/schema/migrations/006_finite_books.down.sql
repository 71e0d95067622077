-- mantis: no-transaction, lock-timeout=50ms, lock-retries=40
--
-- Reverts migration 006: the five constraints it added go, one table per
-- transaction (a brief lock each); no data changes.
-- By hand: psql -v ON_ERROR_STOP=1 -f THIS_FILE

ALTER TABLE core.products DROP CONSTRAINT IF EXISTS products_stock_levels_are_numbers;
ALTER TABLE core.supplier_products DROP CONSTRAINT IF EXISTS supplier_products_cost_is_a_number;
ALTER TABLE core.stock_movement_archive DROP CONSTRAINT IF EXISTS stock_movement_archive_numbers_are_numbers;
ALTER TABLE core.stock_movement DROP CONSTRAINT IF EXISTS stock_movement_numbers_are_numbers;
ALTER TABLE core.stock_on_hand DROP CONSTRAINT IF EXISTS stock_on_hand_numbers_are_numbers;
