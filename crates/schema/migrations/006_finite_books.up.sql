-- mantis: no-transaction, lock-timeout=50ms, lock-retries=40
--
-- Migration 006: the books hold numbers.
--
-- PostgreSQL's numeric holds 'NaN', and NaN = NaN there: one NaN quantity or
-- cost passes every equality the books are checked with while making every
-- sum it enters NaN (the stock value of a warehouse, of the database), and a
-- NaN movement can never be taken out of the append-only ledger. From here
-- on the database refuses it in every column the books are made of, whoever
-- writes: a posting (004's trigger, 005's set-based path), a direct change of
-- stock (004's capture), the archive, a supplier price or a stock level.
-- numeric(p,s) cannot hold ±Infinity (PostgreSQL 14 and later refuse it for
-- a column with a declared precision), so NaN is the one non-finite value
-- these columns can hold.
--
-- Online (as 003): each constraint is added NOT VALID in a short transaction
-- (a brief lock, no scan) and validated on its own under SHARE UPDATE
-- EXCLUSIVE, which blocks neither reads nor writes. Before anything runs,
-- mantis refuses a database that already holds a NaN (the drift checks of
-- 001 and 003 name each row and how to fix it), so the validation finds none.
-- Every statement is safe to run again: a constraint already there under
-- its name is one this migration added (mantis refuses, before anything
-- runs, a same-named constraint that no migration of the set made).

-- Each constraint NOT VALID, one table per transaction (a brief lock, no scan).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'stock_on_hand_numbers_are_numbers'
                   AND conrelid = 'core.stock_on_hand'::regclass) THEN
        ALTER TABLE core.stock_on_hand
            ADD CONSTRAINT stock_on_hand_numbers_are_numbers CHECK (quantity <> 'NaN' AND cost_price <> 'NaN' AND total_value <> 'NaN') NOT VALID;
    END IF;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'stock_movement_numbers_are_numbers'
                   AND conrelid = 'core.stock_movement'::regclass) THEN
        ALTER TABLE core.stock_movement
            ADD CONSTRAINT stock_movement_numbers_are_numbers CHECK (quantity <> 'NaN' AND cost_price <> 'NaN' AND value_delta <> 'NaN') NOT VALID;
    END IF;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'stock_movement_archive_numbers_are_numbers'
                   AND conrelid = 'core.stock_movement_archive'::regclass) THEN
        ALTER TABLE core.stock_movement_archive
            ADD CONSTRAINT stock_movement_archive_numbers_are_numbers CHECK (quantity <> 'NaN' AND cost_price <> 'NaN' AND value_delta <> 'NaN') NOT VALID;
    END IF;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'supplier_products_cost_is_a_number'
                   AND conrelid = 'core.supplier_products'::regclass) THEN
        ALTER TABLE core.supplier_products
            ADD CONSTRAINT supplier_products_cost_is_a_number CHECK (cost_price <> 'NaN') NOT VALID;
    END IF;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'products_stock_levels_are_numbers'
                   AND conrelid = 'core.products'::regclass) THEN
        ALTER TABLE core.products
            ADD CONSTRAINT products_stock_levels_are_numbers CHECK (min_stock_level <> 'NaN' AND max_stock_level <> 'NaN') NOT VALID;
    END IF;
END
$$;

-- Each validated under SHARE UPDATE EXCLUSIVE: reads and writes go on.
ALTER TABLE core.stock_on_hand VALIDATE CONSTRAINT stock_on_hand_numbers_are_numbers;
ALTER TABLE core.stock_movement VALIDATE CONSTRAINT stock_movement_numbers_are_numbers;
ALTER TABLE core.stock_movement_archive VALIDATE CONSTRAINT stock_movement_archive_numbers_are_numbers;
ALTER TABLE core.supplier_products VALIDATE CONSTRAINT supplier_products_cost_is_a_number;
ALTER TABLE core.products VALIDATE CONSTRAINT products_stock_levels_are_numbers;
