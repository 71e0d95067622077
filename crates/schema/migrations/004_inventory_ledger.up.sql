-- mantis: no-transaction, lock-timeout=50ms, lock-retries=40
--
-- Migration 004: the inventory ledger's rules (ADR-026).
--
-- 003 gave every stock row a trail of movements and a weighted-average unit
-- cost. This migration makes the trail the authority, for every client:
--
--   * value is a fact: each movement records value_delta, the exact change of
--     its stock row's value (quantity x unit cost), so the value of a stock row
--     is exactly the sum of its movements' value_delta, and zero quantity is
--     zero value (no rounding residue);
--   * a total order: seq, taken under the stock row's lock, is the order in
--     which movements of one stock row were applied (= their commit order);
--   * the negative-stock policy: an outbound movement that would leave less
--     than zero is rejected, unless the warehouse allows negative stock;
--   * transfers: two TRANSFER movements sharing one reference, balanced at
--     commit; the receiving side takes the sender's unit cost;
--   * append-only: movements are never updated or deleted; corrections are
--     reversing movements (reverses_id names the original);
--   * a direct change of core.stock_on_hand.quantity (legacy code) is kept and
--     recorded as an ADJUSTMENT movement; a direct change of the unit cost is
--     rejected (costs move only through the ledger);
--   * idempotency: a movement carrying an idempotency_key that was already
--     posted with the same content is skipped (INSERT reports 0 rows); the same
--     key with other content is an error.
--
-- Online (ADR-028), like 003: short transactions with lock_timeout 50ms for
-- DDL, batched backfills, no lock a reader or writer waits on for longer than
-- a batch. The true-up stays exact while stock keeps moving:
--   1. the rules are installed first (phase 3): from that commit on, every
--      change of a stock row records a movement whose quantity and value_delta
--      are exactly the row's change, in the same transaction, under the row's
--      lock. So for each stock row, quantity minus the sum of its movements
--      (and value minus the sum of value_delta) no longer changes;
--   2. the movements posted before that commit get their value_delta (phase
--      4, batched; they are the movements with no seq);
--   3. batch by batch, each row's remaining difference becomes one
--      ADJUSTMENT (quantity, and the value it leaves unexplained) or a note on
--      its latest movement (value rounding only): phase 5. By 1, the
--      difference is the same in every snapshot, so no row is locked and a
--      posting in flight is counted once, whenever it commits.
--   4. only then are movements made append-only (phase 6).
--
-- Batched statements read their key range from mantis.batch_first and
-- mantis.batch_last (set by mantis per batch); by hand, see 003's header.

------------------------------------------------------------------------------
-- Phase 1: new columns (catalog-only: nullable, or a constant default) and the
-- sequence that orders postings.
------------------------------------------------------------------------------
BEGIN;

ALTER TABLE core.warehouses
    ADD COLUMN IF NOT EXISTS allow_negative_stock boolean NOT NULL DEFAULT false;

ALTER TABLE core.stock_movement
    ADD COLUMN IF NOT EXISTS seq             bigint,
    ADD COLUMN IF NOT EXISTS idempotency_key text,
    ADD COLUMN IF NOT EXISTS reverses_id     uuid;

CREATE SEQUENCE IF NOT EXISTS core.stock_movement_seq AS bigint;
-- Every posting takes its seq from here, as the role that posts (ADR-029):
-- who writes stock may use it.
SELECT core.grant_following('SEQUENCE core.stock_movement_seq', 'core.stock_on_hand', '{INSERT,UPDATE,DELETE}', 'USAGE');

COMMENT ON COLUMN core.warehouses.allow_negative_stock IS
    'When false (the default), an outbound movement may not leave a stock row of this warehouse below zero.';
COMMENT ON COLUMN core.stock_movement.seq IS
    'Order in which movements were applied (taken under the stock row lock). NULL for movements posted before migration 004.';
COMMENT ON COLUMN core.stock_movement.idempotency_key IS
    'Identifies the source-document line; a line posted twice is applied once.';
COMMENT ON COLUMN core.stock_movement.reverses_id IS
    'The movement this one corrects (a reversing movement).';

COMMIT;

------------------------------------------------------------------------------
-- Phase 2: what a down of 004 saved, put back (for the movements still
-- there), and the idempotency index (built concurrently while the column is
-- still empty).
------------------------------------------------------------------------------
DO $$
DECLARE
    saved    text;
    restored bigint;
BEGIN
    SELECT nspname INTO saved FROM pg_namespace
    WHERE nspname LIKE 'mantis\_backup\_004\_%'
      AND to_regclass(quote_ident(nspname) || '.stock_movement_ledger') IS NOT NULL
    ORDER BY nspname DESC LIMIT 1;
    IF saved IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('UPDATE core.stock_movement m
                    SET value_delta = coalesce(b.value_delta, m.value_delta), seq = b.seq,
                        idempotency_key = b.idempotency_key, reverses_id = b.reverses_id
                    FROM %I.stock_movement_ledger b
                    WHERE b.id = m.id AND m.seq IS NULL
                      AND (b.seq, b.idempotency_key, b.reverses_id, coalesce(b.value_delta, m.value_delta))
                          IS DISTINCT FROM (m.seq, m.idempotency_key, m.reverses_id, m.value_delta)', saved);
    GET DIAGNOSTICS restored = ROW_COUNT;
    EXECUTE format('UPDATE core.warehouses w SET allow_negative_stock = b.allow_negative_stock
                    FROM %I.warehouse_policy b
                    WHERE b.id = w.id AND w.allow_negative_stock IS DISTINCT FROM b.allow_negative_stock', saved);
    PERFORM setval('core.stock_movement_seq', greatest(max(seq), 1)) FROM core.stock_movement;
    RAISE NOTICE '004: put back the ledger data of % movement(s) saved in %', restored, saved;
END
$$;

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS stock_movement_idempotency_key
    ON core.stock_movement (idempotency_key) WHERE idempotency_key IS NOT NULL;

------------------------------------------------------------------------------
-- Phase 3: the rules, installed in one short transaction (catalog only; no
-- bulk work). From this commit on every change of a stock row is recorded
-- with its exact quantity and value (see the header).
------------------------------------------------------------------------------
BEGIN;

-- A quantity as people write it: no trailing zeros (4, not 4.0000).
CREATE OR REPLACE FUNCTION core.format_quantity(n numeric) RETURNS text
    LANGUAGE sql IMMUTABLE AS
$$
    SELECT CASE WHEN n::text LIKE '%.%' THEN rtrim(rtrim(n::text, '0'), '.') ELSE n::text END
$$;

-- Which way a movement type may go: RECEIPT only in; SHIPMENT, DAMAGED and
-- THEFT only out; the others either way (a negative RETURN goes back to the
-- supplier).
CREATE OR REPLACE FUNCTION core.movement_direction_error(kind core.movement_type, quantity numeric)
    RETURNS text LANGUAGE sql IMMUTABLE AS
$$
    SELECT CASE
        WHEN quantity = 0 THEN 'a movement must move a non-zero quantity'
        WHEN kind = 'RECEIPT' AND quantity < 0
            THEN format('a RECEIPT brings stock in: its quantity must be positive (got %s); post a SHIPMENT, RETURN or ADJUSTMENT to take stock out', quantity)
        WHEN kind IN ('SHIPMENT', 'DAMAGED', 'THEFT') AND quantity > 0
            THEN format('a %s takes stock out: its quantity must be negative (got %s)', kind, quantity)
    END
$$;

-- The posting rule, replacing 003's core.update_stock_cost_on_movement() under
-- the same trigger name (003's function stays, for 004's down): see the header
-- of this file and ADR-026.
CREATE OR REPLACE FUNCTION core.post_stock_movement() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    stock     core.stock_on_hand%ROWTYPE;
    prior     core.stock_movement%ROWTYPE;
    problem   text;
    in_cost   numeric(20,6);
    new_qty   numeric;
    new_cost  numeric(20,6);
BEGIN
    IF current_setting('mantis.ledger_replay', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF current_setting('mantis.ledger_capture', true) = 'on' THEN
        -- A direct stock change, already applied (core.capture_stock_change),
        -- whose UPDATE holds the stock row's lock.
        NEW.seq := nextval('core.stock_movement_seq');
        RETURN NEW;
    END IF;

    problem := core.movement_direction_error(NEW.movement_type, NEW.quantity);
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION '%', problem USING ERRCODE = 'check_violation',
            CONSTRAINT = 'stock_movement_direction';
    END IF;
    IF NEW.movement_type = 'TRANSFER' AND NEW.reference_id IS NULL THEN
        RAISE EXCEPTION 'a TRANSFER needs a reference_id shared by its sending and receiving movements'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_movement_transfer_reference';
    END IF;

    -- The stock row, locked: postings to one (product, warehouse) run one at a time.
    SELECT * INTO stock FROM core.stock_on_hand
    WHERE product_id = NEW.product_id AND warehouse_id = NEW.warehouse_id
    FOR UPDATE;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT FROM core.products WHERE id = NEW.product_id) THEN
            RAISE EXCEPTION 'unknown product %', NEW.product_id
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'stock_movement_product_id_fkey';
        END IF;
        IF NOT EXISTS (SELECT FROM core.warehouses WHERE id = NEW.warehouse_id) THEN
            RAISE EXCEPTION 'unknown warehouse %', NEW.warehouse_id
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'stock_movement_warehouse_id_fkey';
        END IF;
        INSERT INTO core.stock_on_hand (product_id, warehouse_id, quantity)
        VALUES (NEW.product_id, NEW.warehouse_id, 0)
        ON CONFLICT (product_id, warehouse_id) DO NOTHING;
        SELECT * INTO stock FROM core.stock_on_hand
        WHERE product_id = NEW.product_id AND warehouse_id = NEW.warehouse_id
        FOR UPDATE;
    END IF;

    -- The order of application: taken under the lock, so for one stock row
    -- it is the order in which the postings' transactions committed.
    NEW.seq := nextval('core.stock_movement_seq');

    -- Idempotency, under the lock: a concurrent duplicate waits above, then
    -- sees the first one committed.
    IF NEW.idempotency_key IS NOT NULL THEN
        SELECT * INTO prior FROM core.stock_movement WHERE idempotency_key = NEW.idempotency_key;
        IF FOUND THEN
            IF (prior.product_id, prior.warehouse_id, prior.movement_type, prior.quantity)
               = (NEW.product_id, NEW.warehouse_id, NEW.movement_type, NEW.quantity) THEN
                RETURN NULL; -- already applied: skip, quietly
            END IF;
            RAISE EXCEPTION 'idempotency key "%" was already used by movement % (% of % in another line)',
                NEW.idempotency_key, prior.id, prior.movement_type, prior.quantity
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'stock_movement_idempotency_key',
                      HINT = 'each source-document line needs its own key';
        END IF;
    END IF;

    new_qty := stock.quantity + NEW.quantity;
    IF NEW.quantity > 0 THEN
        in_cost := NEW.cost_price;
        IF NEW.movement_type = 'TRANSFER' THEN
            SELECT m.cost_price INTO in_cost
            FROM core.stock_movement m
            WHERE m.reference_type IS NOT DISTINCT FROM NEW.reference_type
              AND m.reference_id = NEW.reference_id
              AND m.product_id = NEW.product_id
              AND m.movement_type = 'TRANSFER'
              AND m.quantity = -NEW.quantity
              AND m.warehouse_id <> NEW.warehouse_id
            ORDER BY m.seq DESC
            LIMIT 1;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'transfer %: post the sending side (quantity %) before the receiving side',
                    NEW.reference_id, -NEW.quantity
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_movement_transfer_balanced';
            END IF;
            IF NEW.cost_price IS NOT NULL AND NEW.cost_price IS DISTINCT FROM in_cost THEN
                RAISE EXCEPTION 'transfer %: the receiving side takes the sender''s unit cost %, not %',
                    NEW.reference_id, in_cost, NEW.cost_price
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_movement_transfer_cost';
            END IF;
        END IF;
        -- An unknown incoming cost is valued at the current average (no dilution).
        in_cost := coalesce(in_cost, stock.cost_price);
        IF in_cost IS NULL THEN
            new_cost := NULL;
        ELSIF stock.quantity <= 0 OR stock.cost_price IS NULL THEN
            new_cost := in_cost;
        ELSE
            new_cost := round((stock.quantity * stock.cost_price + NEW.quantity * in_cost) / new_qty, 6);
        END IF;
        NEW.cost_price := in_cost;
    ELSE
        IF NEW.cost_price IS NOT NULL AND NEW.cost_price IS DISTINCT FROM stock.cost_price THEN
            RAISE EXCEPTION 'an outbound movement leaves at the current unit cost (%), not at %; leave cost_price empty',
                coalesce(stock.cost_price::text, 'unknown'), NEW.cost_price
                USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_movement_outbound_cost';
        END IF;
        IF new_qty < 0 AND NOT (SELECT allow_negative_stock FROM core.warehouses WHERE id = NEW.warehouse_id) THEN
            RAISE EXCEPTION 'insufficient stock: % on hand of product % in warehouse %; taking % would leave %',
                core.format_quantity(stock.quantity),
                (SELECT sku FROM core.products WHERE id = NEW.product_id),
                (SELECT code FROM core.warehouses WHERE id = NEW.warehouse_id),
                core.format_quantity(-NEW.quantity), core.format_quantity(new_qty)
                USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_not_negative',
                      HINT = 'post the receipt first, or allow negative stock in this warehouse (core.warehouses.allow_negative_stock)';
        END IF;
        NEW.cost_price := stock.cost_price;
        new_cost := stock.cost_price;
    END IF;
    NEW.value_delta := CASE WHEN new_cost IS NOT NULL
                            THEN new_qty * new_cost - coalesce(stock.quantity * stock.cost_price, 0) END;

    PERFORM set_config('mantis.ledger_posting', 'on', true);
    UPDATE core.stock_on_hand
    SET quantity = new_qty,
        cost_price = new_cost,
        cost_source = CASE WHEN new_cost IS DISTINCT FROM stock.cost_price THEN 'MOVEMENT' ELSE cost_source END,
        last_cost_update_at = CASE WHEN new_cost IS DISTINCT FROM stock.cost_price THEN now() ELSE last_cost_update_at END,
        updated_at = now()
    WHERE id = stock.id;
    PERFORM set_config('mantis.ledger_posting', '', true);
    RETURN NEW;
END
$$;

-- Movements are facts: never changed, never removed.
CREATE OR REPLACE FUNCTION core.stock_movement_append_only() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'core.stock_movement is append-only: it cannot be truncated'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RAISE EXCEPTION 'core.stock_movement is append-only: movement % cannot be %', OLD.id,
        CASE TG_OP WHEN 'UPDATE' THEN 'changed' ELSE 'deleted' END
        USING ERRCODE = 'restrict_violation',
              HINT = 'correct a movement with a reversing movement (reverses_id); retire a product or warehouse with is_active = false';
END
$$;

-- A TRANSFER reference must balance per product when the transaction commits.
CREATE OR REPLACE FUNCTION core.check_transfer_balanced() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    net numeric;
BEGIN
    SELECT sum(quantity) INTO net FROM core.stock_movement
    WHERE reference_type IS NOT DISTINCT FROM NEW.reference_type
      AND reference_id = NEW.reference_id
      AND product_id = NEW.product_id
      AND movement_type = 'TRANSFER';
    IF net <> 0 THEN
        RAISE EXCEPTION 'transfer % of product % does not balance: its movements sum to %',
            NEW.reference_id, NEW.product_id, net
            USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_movement_transfer_balanced',
                  HINT = 'post both sides of a transfer in one transaction';
    END IF;
    RETURN NULL;
END
$$;

-- Direct writes to stock_on_hand (not made by the posting trigger): a quantity
-- change is kept and recorded as an ADJUSTMENT at the current unit cost; a
-- unit-cost change is refused. Runs AFTER the row is written, so the row's
-- own checks and its value trigger have run.
CREATE OR REPLACE FUNCTION core.capture_stock_change() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    delta    numeric;
    value    numeric;
    row_now  core.stock_on_hand%ROWTYPE;
BEGIN
    IF current_setting('mantis.ledger_posting', true) = 'on'
       OR current_setting('mantis.ledger_replay', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        row_now := OLD;
        delta := -OLD.quantity;
        value := -coalesce(OLD.total_value, 0);
    ELSIF TG_OP = 'INSERT' THEN
        row_now := NEW;
        delta := NEW.quantity;
        value := coalesce(NEW.total_value, 0);
    ELSE
        IF NEW.cost_price IS DISTINCT FROM OLD.cost_price THEN
            RAISE EXCEPTION 'the unit cost of stock is kept by the ledger: it cannot be set directly (stock row %)', OLD.id
                USING ERRCODE = 'restrict_violation',
                      HINT = 'receive stock at its cost (mantis stock receive), or adjust with a reversing movement';
        END IF;
        row_now := NEW;
        delta := NEW.quantity - OLD.quantity;
        value := coalesce(NEW.total_value, 0) - coalesce(OLD.total_value, 0);
    END IF;
    IF delta = 0 THEN
        RETURN NULL;
    END IF;
    IF delta < 0 AND TG_OP <> 'DELETE' AND row_now.quantity < 0
       AND NOT (SELECT allow_negative_stock FROM core.warehouses WHERE id = row_now.warehouse_id) THEN
        RAISE EXCEPTION 'insufficient stock: setting stock row % to % would leave negative stock', row_now.id, row_now.quantity
            USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_not_negative',
                  HINT = 'negative stock is not allowed in this warehouse (core.warehouses.allow_negative_stock)';
    END IF;
    PERFORM set_config('mantis.ledger_capture', 'on', true);
    INSERT INTO core.stock_movement
        (product_id, warehouse_id, movement_type, quantity, unit_of_measure, cost_price, value_delta,
         reference_type, reference_number, notes, metadata)
    SELECT row_now.product_id, row_now.warehouse_id, 'ADJUSTMENT', delta, p.unit_of_measure,
           row_now.cost_price, CASE WHEN row_now.cost_price IS NOT NULL THEN value END,
           'SYSTEM_ADJUSTMENT', 'DIRECT-WRITE',
           format('%s of core.stock_on_hand outside the ledger', lower(TG_OP)),
           jsonb_build_object('captured', lower(TG_OP), 'by', current_user,
                              'application', current_setting('application_name'))
    FROM core.products p WHERE p.id = row_now.product_id;
    PERFORM set_config('mantis.ledger_capture', '', true);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS stock_movement_update_cost ON core.stock_movement;
CREATE TRIGGER stock_movement_update_cost
    BEFORE INSERT ON core.stock_movement
    FOR EACH ROW EXECUTE FUNCTION core.post_stock_movement();

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'trg_stock_on_hand_capture'
                   AND tgrelid = 'core.stock_on_hand'::regclass) THEN
        CREATE CONSTRAINT TRIGGER trg_stock_movement_transfer_balanced
            AFTER INSERT ON core.stock_movement
            DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (NEW.movement_type = 'TRANSFER')
            EXECUTE FUNCTION core.check_transfer_balanced();
        -- The WHEN clause skips the ledger's own updates without a function call.
        CREATE TRIGGER trg_stock_on_hand_capture
            AFTER INSERT OR UPDATE OF quantity, cost_price OR DELETE ON core.stock_on_hand
            FOR EACH ROW WHEN (current_setting('mantis.ledger_posting', true) IS DISTINCT FROM 'on')
            EXECUTE FUNCTION core.capture_stock_change();
    END IF;
END
$$;

COMMIT;

------------------------------------------------------------------------------
-- Phase 4: the value of movements posted before phase 3 (they have no seq),
-- batch by batch. Nothing else updates movements: no one waits on these rows.
------------------------------------------------------------------------------
-- mantis: batch table=core.stock_movement key=id rows=10000 time=40ms
UPDATE core.stock_movement
SET value_delta = quantity * cost_price
WHERE id BETWEEN current_setting('mantis.batch_first')::uuid AND current_setting('mantis.batch_last')::uuid
  AND seq IS NULL AND value_delta IS NULL AND cost_price IS NOT NULL;

------------------------------------------------------------------------------
-- Phase 5: the true-up, batch by batch. For each stock row, what its
-- movements do not explain:
--   * quantity written directly to stock_on_hand before phase 3, which no
--     movement records: one ADJUSTMENT, whose value change is all the value
--     the movements do not explain (so quantity = sum of movements and value
--     = sum of value changes);
--   * otherwise value only: 003 rounded each new average, so the sum of
--     quantity x unit cost of a row's movements can differ from its value by
--     that rounding. The difference goes to the row's latest movement from
--     before 004, and is noted on it.
-- No lock is needed (ADR-028): since phase 3 every change of a stock row
-- changes its movements' sums by the same amount in the same transaction, so
-- the differences are the same in every snapshot. Rows whose movements
-- explain them are only read. mantis.ledger_replay tells the posting trigger
-- that the adjustments record stock that is already there.
------------------------------------------------------------------------------
-- mantis: batch table=core.stock_on_hand key=id rows=5000 time=40ms
DO $$
BEGIN
    PERFORM set_config('mantis.ledger_replay', 'on', true);
    WITH gap AS MATERIALIZED (
        SELECT s.product_id, s.warehouse_id, s.cost_price, p.unit_of_measure,
               s.quantity - coalesce(m.quantity, 0)             AS quantity,
               coalesce(s.total_value, 0) - coalesce(m.value, 0) AS value,
               coalesce(m.movements, 0)                          AS movements
        FROM core.stock_on_hand s
        JOIN core.products p ON p.id = s.product_id
        LEFT JOIN LATERAL (SELECT sum(m.quantity) AS quantity, sum(m.value_delta) AS value,
                                  count(*) AS movements
                           FROM core.stock_movement m
                           WHERE m.product_id = s.product_id AND m.warehouse_id = s.warehouse_id) m ON true
        WHERE s.id BETWEEN current_setting('mantis.batch_first')::uuid AND current_setting('mantis.batch_last')::uuid
          AND (s.quantity <> coalesce(m.quantity, 0)
               OR coalesce(s.total_value, 0) <> coalesce(m.value, 0))
    ), adjusted AS (
        INSERT INTO core.stock_movement
            (product_id, warehouse_id, movement_type, quantity, unit_of_measure, cost_price, value_delta,
             reference_type, reference_number, notes, metadata)
        SELECT g.product_id, g.warehouse_id, 'ADJUSTMENT', g.quantity, g.unit_of_measure, g.cost_price,
               g.value, 'SYSTEM_ADJUSTMENT', 'LEDGER-TRUE-UP-004',
               'Quantity written to stock_on_hand outside the ledger before migration 004',
               CASE WHEN g.value <> coalesce(g.quantity * g.cost_price, 0)
                    THEN jsonb_build_object('value_residual_004', g.value - coalesce(g.quantity * g.cost_price, 0))
                    ELSE '{}'::jsonb END
        FROM gap g
        WHERE g.quantity <> 0
        RETURNING 1
    )
    UPDATE core.stock_movement m
    SET value_delta = coalesce(m.value_delta, 0) + r.value,
        metadata = coalesce(m.metadata, '{}'::jsonb) || jsonb_build_object('value_residual_004', r.value)
    FROM (SELECT g.value,
                 (SELECT x.id FROM core.stock_movement x
                  WHERE x.product_id = g.product_id AND x.warehouse_id = g.warehouse_id
                  ORDER BY x.seq IS NULL DESC, x.created_at DESC, x.id DESC
                  LIMIT 1) AS id
          FROM gap g
          WHERE g.quantity = 0 AND g.movements > 0) r
    WHERE m.id = r.id;
    PERFORM set_config('mantis.ledger_replay', '', true);
END
$$;

------------------------------------------------------------------------------
-- Phase 6: movements are facts from now on: never changed, never removed.
------------------------------------------------------------------------------
BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'trg_stock_movement_append_only'
                   AND tgrelid = 'core.stock_movement'::regclass) THEN
        CREATE TRIGGER trg_stock_movement_append_only
            BEFORE UPDATE OR DELETE ON core.stock_movement
            FOR EACH ROW EXECUTE FUNCTION core.stock_movement_append_only();
        CREATE TRIGGER trg_stock_movement_no_truncate
            BEFORE TRUNCATE ON core.stock_movement
            FOR EACH STATEMENT EXECUTE FUNCTION core.stock_movement_append_only();
    END IF;
END
$$;

COMMIT;

------------------------------------------------------------------------------
-- Phase 7: reversing movements name their original.
------------------------------------------------------------------------------
BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'fk_stock_movement_reverses'
                   AND conrelid = 'core.stock_movement'::regclass) THEN
        ALTER TABLE core.stock_movement
            ADD CONSTRAINT fk_stock_movement_reverses
                FOREIGN KEY (reverses_id) REFERENCES core.stock_movement (id) NOT VALID;
    END IF;
END
$$;

COMMIT;

ALTER TABLE core.stock_movement VALIDATE CONSTRAINT fk_stock_movement_reverses;

CREATE INDEX CONCURRENTLY IF NOT EXISTS stock_movement_reverses_idx
    ON core.stock_movement (reverses_id) WHERE reverses_id IS NOT NULL;

ANALYZE core.stock_movement;
