-- mantis: no-transaction, lock-timeout=50ms, lock-retries=40
--
-- Migration 005: the ledger at scale (ADR-033).
--
--   * set-based posting: core.post_movements() posts a batch with a constant
--     number of statements (resolve names, lock the stock rows in key order,
--     fold the lines in order, insert the movements, update the stock rows),
--     instead of one trigger call, row lock and stock update per movement.
--     The rules are ADR-026's: core.ledger_apply() applies them to a batch,
--     004's posting trigger to one row (every other client's INSERT); a
--     batch posted by core.post_movements() skips the row trigger (its WHEN
--     clause), having applied every rule already. A test posts the same
--     random lines both ways and compares the books.
--   * archiving with carried balances: core.stock_movement_archive holds
--     movements moved out of the hot table; each stock row keeps one
--     carried-balance movement standing for what was moved, so on-hand = sum
--     of movements and value = sum of value_delta still hold on the hot table
--     alone. core.ledger_archive_batch() and core.ledger_unarchive_batch() move
--     one key range of products each way, in one short transaction.
--
-- 004's functions stay as they are: the triggers keep their names and
-- functions and gain WHEN clauses (catalog only, a short lock on
-- core.stock_movement).

------------------------------------------------------------------------------
-- Phase 1: the archive table (new and empty: its indexes are built at once).
------------------------------------------------------------------------------
BEGIN;

CREATE TABLE IF NOT EXISTS core.stock_movement_archive (
    LIKE core.stock_movement,
    carried_by  uuid,
    archived_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stock_movement_archive_pkey PRIMARY KEY (id)
);
COMMENT ON TABLE core.stock_movement_archive IS
    'Movements moved out of core.stock_movement by mantis ledger archive; carried_by names the carried-balance movement that stands for them there (NULL when they net to zero).';
CREATE INDEX IF NOT EXISTS stock_movement_archive_carried_by
    ON core.stock_movement_archive (carried_by) WHERE carried_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS stock_movement_archive_stock
    ON core.stock_movement_archive (product_id, warehouse_id, seq);
CREATE UNIQUE INDEX IF NOT EXISTS stock_movement_archive_idempotency_key
    ON core.stock_movement_archive (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Who may read movements may read archived ones.
SELECT core.grant_following('core.stock_movement_archive', 'core.stock_movement', '{SELECT}', 'SELECT');

COMMIT;

------------------------------------------------------------------------------
-- Phase 2: the rules, set-based, and the functions that use them.
------------------------------------------------------------------------------
BEGIN;

-- ADR-026's rules for a batch of movements, given by ids, in order. Locks the
-- stock rows (creating missing ones) in (product, warehouse) order, skips a
-- line whose idempotency key was posted before with the same content, folds
-- the lines in order (weighted average per line, negative-stock policy,
-- transfers at the sender's cost), takes each applied line's seq under the
-- locks, and writes each stock row once. The caller inserts the movements.
CREATE OR REPLACE FUNCTION core.ledger_apply(
    ids uuid[], product_ids uuid[], warehouse_ids uuid[], kinds core.movement_type[],
    quantities numeric[], costs numeric[], ref_types core.reference_type[], ref_ids uuid[],
    keys text[])
    RETURNS TABLE (ord integer, applied boolean, seq bigint, cost_price numeric, value_delta numeric)
    LANGUAGE plpgsql AS
$$
#variable_conflict use_column
DECLARE
    n            integer := cardinality(ids);
    stock_ids    uuid[];
    stock_qty    numeric[];
    stock_cost   numeric[];
    stock_neg    boolean[];
    changed      boolean[];
    touched      boolean[];
    at           integer[];   -- per line: its stock row's index in the arrays above
    prior_id     uuid[];      -- per line: the movement that used its key before
    prior_same   boolean[];   -- ... and whether it has the same content
    first_use    integer[];   -- per line: the first line of the batch with its key
    out_applied  boolean[];
    out_seq      bigint[];
    out_cost     numeric[];
    out_value    numeric[];
    k            integer;
    problem      text;
    in_cost      numeric(20,6);
    new_qty      numeric;
    new_cost     numeric(20,6);
    found_cost   boolean;
    missing      integer;
BEGIN
    IF n IS NULL OR n = 0 THEN
        RETURN;
    END IF;

    -- The stock rows, locked in key order; the missing ones created first.
    FOR attempt IN 1..2 LOOP
        WITH locked AS MATERIALIZED (
            SELECT s.id, s.product_id, s.warehouse_id, s.quantity, s.cost_price, w.allow_negative_stock
            FROM core.stock_on_hand s
            JOIN core.warehouses w ON w.id = s.warehouse_id
            WHERE (s.product_id, s.warehouse_id) IN (SELECT * FROM unnest(product_ids, warehouse_ids))
            ORDER BY s.product_id, s.warehouse_id
            FOR UPDATE OF s
        ), numbered AS (
            SELECT row_number() OVER (ORDER BY product_id, warehouse_id)::integer AS idx, * FROM locked
        )
        SELECT array_agg(id ORDER BY idx), array_agg(quantity ORDER BY idx),
               array_agg(cost_price ORDER BY idx), array_agg(allow_negative_stock ORDER BY idx),
               (SELECT array_agg(x.idx ORDER BY u.o)
                FROM unnest(product_ids, warehouse_ids) WITH ORDINALITY AS u(p, w, o)
                LEFT JOIN numbered x ON x.product_id = u.p AND x.warehouse_id = u.w)
        INTO stock_ids, stock_qty, stock_cost, stock_neg, at
        FROM numbered;
        IF at IS NULL THEN
            at := array_fill(NULL::integer, ARRAY[n]);
        END IF;
        missing := array_position(at, NULL);
        EXIT WHEN missing IS NULL OR attempt = 2;
        IF NOT EXISTS (SELECT FROM core.products WHERE id = product_ids[missing]) THEN
            RAISE EXCEPTION 'unknown product %', product_ids[missing]
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'stock_movement_product_id_fkey';
        END IF;
        IF NOT EXISTS (SELECT FROM core.warehouses WHERE id = warehouse_ids[missing]) THEN
            RAISE EXCEPTION 'unknown warehouse %', warehouse_ids[missing]
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'stock_movement_warehouse_id_fkey';
        END IF;
        PERFORM set_config('mantis.ledger_posting', 'on', true);
        INSERT INTO core.stock_on_hand (product_id, warehouse_id, quantity)
        SELECT DISTINCT u.p, u.w, 0
        FROM unnest(product_ids, warehouse_ids) AS u(p, w)
        JOIN core.products p ON p.id = u.p
        JOIN core.warehouses w ON w.id = u.w
        ORDER BY 1, 2
        ON CONFLICT (product_id, warehouse_id) DO NOTHING;
        PERFORM set_config('mantis.ledger_posting', '', true);
    END LOOP;
    IF missing IS NOT NULL THEN
        IF NOT EXISTS (SELECT FROM core.products WHERE id = product_ids[missing]) THEN
            RAISE EXCEPTION 'unknown product %', product_ids[missing]
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'stock_movement_product_id_fkey';
        END IF;
        RAISE EXCEPTION 'unknown warehouse %', warehouse_ids[missing]
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'stock_movement_warehouse_id_fkey';
    END IF;

    -- Idempotency, under the locks: a concurrent duplicate waited above and
    -- now sees the first one committed (hot or archived); within the batch,
    -- a key's first line is the one applied.
    IF array_remove(keys, NULL) <> '{}' THEN
        SELECT array_agg(p.id ORDER BY u.o),
               array_agg((p.product_id, p.warehouse_id, p.movement_type, p.quantity)
                         = (product_ids[u.o], warehouse_ids[u.o], kinds[u.o], quantities[u.o]) ORDER BY u.o),
               array_agg(u.first ORDER BY u.o)
        INTO prior_id, prior_same, first_use
        FROM (SELECT t.k, t.o::integer AS o,
                     CASE WHEN t.k IS NOT NULL THEN min(t.o) OVER (PARTITION BY t.k) END::integer AS first
              FROM unnest(keys) WITH ORDINALITY AS t(k, o)) u
        LEFT JOIN LATERAL (
            SELECT m.id, m.product_id, m.warehouse_id, m.movement_type, m.quantity
            FROM core.stock_movement m WHERE m.idempotency_key = u.k
            UNION ALL
            SELECT a.id, a.product_id, a.warehouse_id, a.movement_type, a.quantity
            FROM core.stock_movement_archive a WHERE a.idempotency_key = u.k
            LIMIT 1) p ON true;
    END IF;

    out_applied := array_fill(false, ARRAY[n]);
    out_seq := array_fill(NULL::bigint, ARRAY[n]);
    out_cost := array_fill(NULL::numeric, ARRAY[n]);
    out_value := array_fill(NULL::numeric, ARRAY[n]);
    changed := array_fill(false, ARRAY[cardinality(stock_ids)]);
    touched := changed;

    FOR i IN 1..n LOOP
        problem := core.movement_direction_error(kinds[i], quantities[i]);
        IF problem IS NOT NULL THEN
            RAISE EXCEPTION '%', problem USING ERRCODE = 'check_violation',
                CONSTRAINT = 'stock_movement_direction';
        END IF;
        IF kinds[i] = 'TRANSFER' AND ref_ids[i] IS NULL THEN
            RAISE EXCEPTION 'a TRANSFER needs a reference_id shared by its sending and receiving movements'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_movement_transfer_reference';
        END IF;

        IF keys[i] IS NOT NULL THEN
            IF prior_id[i] IS NOT NULL THEN
                IF prior_same[i] THEN
                    CONTINUE; -- already applied: skip, quietly
                END IF;
                RAISE EXCEPTION 'idempotency key "%" was already used by movement % (% of % in another line)',
                    keys[i], prior_id[i], (SELECT movement_type FROM core.stock_movement WHERE id = prior_id[i]
                                           UNION ALL SELECT movement_type FROM core.stock_movement_archive WHERE id = prior_id[i] LIMIT 1),
                    (SELECT quantity FROM core.stock_movement WHERE id = prior_id[i]
                     UNION ALL SELECT quantity FROM core.stock_movement_archive WHERE id = prior_id[i] LIMIT 1)
                    USING ERRCODE = 'unique_violation', CONSTRAINT = 'stock_movement_idempotency_key',
                          HINT = 'each source-document line needs its own key';
            END IF;
            IF first_use[i] < i THEN
                k := first_use[i];
                IF (product_ids[k], warehouse_ids[k], kinds[k], quantities[k])
                   = (product_ids[i], warehouse_ids[i], kinds[i], quantities[i]) THEN
                    CONTINUE; -- the same line twice in one batch: applied once
                END IF;
                RAISE EXCEPTION 'idempotency key "%" was already used by movement % (% of % in another line)',
                    keys[i], ids[k], kinds[k], quantities[k]
                    USING ERRCODE = 'unique_violation', CONSTRAINT = 'stock_movement_idempotency_key',
                          HINT = 'each source-document line needs its own key';
            END IF;
        END IF;

        k := at[i];
        new_qty := stock_qty[k] + quantities[i];
        IF quantities[i] > 0 THEN
            in_cost := costs[i];
            IF kinds[i] = 'TRANSFER' THEN
                found_cost := false;
                -- The sending side: earlier in this batch, else already posted.
                FOR j IN REVERSE i - 1..1 LOOP
                    IF out_applied[j] AND kinds[j] = 'TRANSFER' AND ref_ids[j] = ref_ids[i]
                       AND ref_types[j] IS NOT DISTINCT FROM ref_types[i]
                       AND product_ids[j] = product_ids[i] AND quantities[j] = -quantities[i]
                       AND warehouse_ids[j] <> warehouse_ids[i] THEN
                        in_cost := out_cost[j];
                        found_cost := true;
                        EXIT;
                    END IF;
                END LOOP;
                IF NOT found_cost THEN
                    SELECT m.cost_price INTO in_cost
                    FROM core.stock_movement m
                    WHERE m.reference_type IS NOT DISTINCT FROM ref_types[i]
                      AND m.reference_id = ref_ids[i]
                      AND m.product_id = product_ids[i]
                      AND m.movement_type = 'TRANSFER'
                      AND m.quantity = -quantities[i]
                      AND m.warehouse_id <> warehouse_ids[i]
                    ORDER BY m.seq DESC
                    LIMIT 1;
                    found_cost := FOUND;
                END IF;
                IF NOT found_cost THEN
                    RAISE EXCEPTION 'transfer %: post the sending side (quantity %) before the receiving side',
                        ref_ids[i], -quantities[i]
                        USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_movement_transfer_balanced';
                END IF;
                IF costs[i] IS NOT NULL AND costs[i] IS DISTINCT FROM in_cost THEN
                    RAISE EXCEPTION 'transfer %: the receiving side takes the sender''s unit cost %, not %',
                        ref_ids[i], in_cost, costs[i]
                        USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_movement_transfer_cost';
                END IF;
            END IF;
            -- An unknown incoming cost is valued at the current average (no dilution).
            in_cost := coalesce(in_cost, stock_cost[k]);
            IF in_cost IS NULL THEN
                new_cost := NULL;
            ELSIF stock_qty[k] <= 0 OR stock_cost[k] IS NULL THEN
                new_cost := in_cost;
            ELSE
                new_cost := round((stock_qty[k] * stock_cost[k] + quantities[i] * in_cost) / new_qty, 6);
            END IF;
            out_cost[i] := in_cost;
        ELSE
            IF costs[i] IS NOT NULL AND costs[i] IS DISTINCT FROM stock_cost[k] THEN
                RAISE EXCEPTION 'an outbound movement leaves at the current unit cost (%), not at %; leave cost_price empty',
                    coalesce(stock_cost[k]::text, 'unknown'), costs[i]
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_movement_outbound_cost';
            END IF;
            IF new_qty < 0 AND NOT stock_neg[k] THEN
                RAISE EXCEPTION 'insufficient stock: % on hand of product % in warehouse %; taking % would leave %',
                    core.format_quantity(stock_qty[k]),
                    (SELECT sku FROM core.products WHERE id = product_ids[i]),
                    (SELECT code FROM core.warehouses WHERE id = warehouse_ids[i]),
                    core.format_quantity(-quantities[i]), core.format_quantity(new_qty)
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_not_negative',
                          HINT = 'post the receipt first, or allow negative stock in this warehouse (core.warehouses.allow_negative_stock)';
            END IF;
            out_cost[i] := stock_cost[k];
            new_cost := stock_cost[k];
        END IF;
        out_value[i] := CASE WHEN new_cost IS NOT NULL
                             THEN new_qty * new_cost - coalesce(stock_qty[k] * stock_cost[k], 0) END;
        -- The order of application: taken under the locks, line by line.
        out_seq[i] := nextval('core.stock_movement_seq');
        out_applied[i] := true;
        changed[k] := changed[k] OR new_cost IS DISTINCT FROM stock_cost[k];
        touched[k] := true;
        stock_qty[k] := new_qty;
        stock_cost[k] := new_cost;
    END LOOP;

    -- Each stock row written once, with where its lines left it.
    PERFORM set_config('mantis.ledger_posting', 'on', true);
    UPDATE core.stock_on_hand s
    SET quantity = u.q,
        cost_price = u.c,
        cost_source = CASE WHEN u.changed THEN 'MOVEMENT' ELSE s.cost_source END,
        last_cost_update_at = CASE WHEN u.changed THEN now() ELSE s.last_cost_update_at END,
        updated_at = now()
    FROM unnest(stock_ids, stock_qty, stock_cost, changed, touched) AS u(id, q, c, changed, touched)
    WHERE s.id = u.id AND u.touched;
    PERFORM set_config('mantis.ledger_posting', '', true);

    RETURN QUERY
    SELECT u.o::integer, u.a, u.s, u.c, u.v
    FROM unnest(out_applied, out_seq, out_cost, out_value) WITH ORDINALITY AS u(a, s, c, v, o);
END
$$;

-- A movement inserted by any other client (one row at a time, 004's trigger)
-- whose idempotency key was archived: skipped when it is the same line,
-- refused otherwise. Runs before the posting trigger (trigger names fire in
-- order), after locking the stock row: the archiver locks it too, so a key
-- is either still hot (004's check finds it) or already archived (found here).
CREATE OR REPLACE FUNCTION core.skip_archived_key() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    prior core.stock_movement_archive%ROWTYPE;
BEGIN
    PERFORM FROM core.stock_on_hand
    WHERE product_id = NEW.product_id AND warehouse_id = NEW.warehouse_id
    FOR UPDATE;
    SELECT * INTO prior FROM core.stock_movement_archive WHERE idempotency_key = NEW.idempotency_key;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    IF (prior.product_id, prior.warehouse_id, prior.movement_type, prior.quantity)
       = (NEW.product_id, NEW.warehouse_id, NEW.movement_type, NEW.quantity) THEN
        RETURN NULL; -- already applied (and archived since): skip, quietly
    END IF;
    RAISE EXCEPTION 'idempotency key "%" was already used by movement % (% of % in another line, archived)',
        NEW.idempotency_key, prior.id, prior.movement_type, prior.quantity
        USING ERRCODE = 'unique_violation', CONSTRAINT = 'stock_movement_idempotency_key',
              HINT = 'each source-document line needs its own key';
END
$$;

DROP TRIGGER IF EXISTS stock_movement_archived_key ON core.stock_movement;
CREATE TRIGGER stock_movement_archived_key
    BEFORE INSERT ON core.stock_movement
    FOR EACH ROW WHEN (NEW.idempotency_key IS NOT NULL
                       AND current_setting('mantis.ledger_batch', true) IS DISTINCT FROM 'on'
                       AND current_setting('mantis.ledger_replay', true) IS DISTINCT FROM 'on'
                       AND current_setting('mantis.ledger_capture', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION core.skip_archived_key();

-- A batch of movements, named by SKU and warehouse code, posted in order in
-- one statement: all or none. Returns the applied movements (a line whose
-- idempotency key was posted before with the same content is absent).
CREATE OR REPLACE FUNCTION core.post_movements(
    ids uuid[], skus text[], codes text[], kinds text[], quantities numeric[], costs numeric[],
    ref_types text[], ref_ids uuid[], numbers text[], notes text[], keys text[])
    RETURNS TABLE (id uuid, seq bigint, cost_price numeric, value_delta numeric)
    LANGUAGE plpgsql AS
$$
#variable_conflict use_column
DECLARE
    n          integer := cardinality(ids);
    product_ids   uuid[];
    warehouse_ids uuid[];
    units      text[];
    qty        numeric(18,4)[] := quantities::numeric(18,4)[];
    cost       numeric(20,6)[] := costs::numeric(20,6)[];
    applied    boolean[];
    seqs       bigint[];
    in_costs   numeric[];
    vals       numeric[];
BEGIN
    -- One index lookup per line (a scalar subquery is never turned into a
    -- scan of the whole catalogue).
    SELECT array_agg((u.p).id ORDER BY u.o), array_agg(u.w ORDER BY u.o),
           array_agg(coalesce((u.p).unit_of_measure, 'EA') ORDER BY u.o)
    INTO product_ids, warehouse_ids, units
    FROM (SELECT t.o,
                 (SELECT p FROM core.products p WHERE p.sku = t.sku) AS p,
                 (SELECT w.id FROM core.warehouses w WHERE w.code = t.code) AS w
          FROM unnest(skus, codes) WITH ORDINALITY AS t(sku, code, o)) u;
    FOR i IN 1..coalesce(n, 0) LOOP
        IF product_ids[i] IS NULL THEN
            RAISE EXCEPTION 'line %: unknown product SKU %', i, skus[i]
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'stock_movement_product_id_fkey';
        END IF;
        IF warehouse_ids[i] IS NULL THEN
            RAISE EXCEPTION 'line %: unknown warehouse %', i, codes[i]
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'stock_movement_warehouse_id_fkey';
        END IF;
    END LOOP;

    SELECT array_agg(a.applied ORDER BY a.ord), array_agg(a.seq ORDER BY a.ord),
           array_agg(a.cost_price ORDER BY a.ord), array_agg(a.value_delta ORDER BY a.ord)
    INTO applied, seqs, in_costs, vals
    FROM core.ledger_apply(ids, product_ids, warehouse_ids, kinds::core.movement_type[], qty, cost,
                           ref_types::core.reference_type[], ref_ids, keys) a;

    -- Every rule has been applied: the row trigger is skipped (its WHEN clause).
    PERFORM set_config('mantis.ledger_batch', 'on', true);
    RETURN QUERY
    WITH inserted AS (
        INSERT INTO core.stock_movement
            (id, product_id, warehouse_id, movement_type, quantity, unit_of_measure, cost_price,
             value_delta, seq, reference_type, reference_id, reference_number, notes, idempotency_key)
        SELECT ids[u.o], product_ids[u.o], warehouse_ids[u.o], kinds[u.o]::core.movement_type, qty[u.o], units[u.o],
               in_costs[u.o], vals[u.o], seqs[u.o], ref_types[u.o]::core.reference_type, ref_ids[u.o],
               numbers[u.o], notes[u.o], keys[u.o]
        FROM generate_subscripts(ids, 1) AS u(o)
        WHERE applied[u.o]
        ORDER BY u.o
        RETURNING id, seq, cost_price, value_delta)
    SELECT * FROM inserted;
    PERFORM set_config('mantis.ledger_batch', '', true);
END
$$;

COMMENT ON FUNCTION core.post_movements(uuid[], text[], text[], text[], numeric[], numeric[], text[], uuid[], text[], text[], text[]) IS
    'Posts a batch of movements in order, set-based, with the ledger''s rules (ADR-026, ADR-033).';

-- The row trigger is skipped for a batch core.post_movements() has applied.
DROP TRIGGER IF EXISTS stock_movement_update_cost ON core.stock_movement;
CREATE TRIGGER stock_movement_update_cost
    BEFORE INSERT ON core.stock_movement
    FOR EACH ROW WHEN (current_setting('mantis.ledger_batch', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION core.post_stock_movement();

-- Movements put back from the archive are replayed facts: the transfer they
-- belong to balanced when it was posted.
DROP TRIGGER IF EXISTS trg_stock_movement_transfer_balanced ON core.stock_movement;
CREATE CONSTRAINT TRIGGER trg_stock_movement_transfer_balanced
    AFTER INSERT ON core.stock_movement
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.movement_type = 'TRANSFER'
                       AND current_setting('mantis.ledger_replay', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION core.check_transfer_balanced();

COMMIT;

------------------------------------------------------------------------------
-- Phase 3: archiving. A movement leaves the hot table only into the archive,
-- and comes back only from it; nothing else may delete either.
------------------------------------------------------------------------------
BEGIN;

-- The columns both tables share, as a list for INSERT … SELECT (the archive
-- may not be written with generated columns' values into the hot table).
CREATE OR REPLACE FUNCTION core.stock_movement_columns(writable_only boolean) RETURNS text
    LANGUAGE sql STABLE AS
$$
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
    FROM pg_attribute
    WHERE attrelid = 'core.stock_movement'::regclass AND attnum > 0 AND NOT attisdropped
      AND (NOT writable_only OR attgenerated = '')
$$;

-- After a DELETE from core.stock_movement by the archiver: every row is in the
-- archive, or is a carried balance whose movements are all back.
CREATE OR REPLACE FUNCTION core.check_movements_archived() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    lost uuid;
BEGIN
    SELECT g.id INTO lost FROM gone g
    WHERE NOT EXISTS (SELECT FROM core.stock_movement_archive a WHERE a.id = g.id)
      AND (g.reference_number IS DISTINCT FROM 'CARRIED-BALANCE'
           OR EXISTS (SELECT FROM core.stock_movement_archive a WHERE a.carried_by = g.id))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'core.stock_movement is append-only: movement % cannot be deleted (it is not in core.stock_movement_archive)', lost
            USING ERRCODE = 'restrict_violation',
                  HINT = 'archive movements with mantis ledger archive';
    END IF;
    RETURN NULL;
END
$$;

-- The archive: rows are never changed; one leaves only when it is back in
-- the hot table.
CREATE OR REPLACE FUNCTION core.stock_movement_archive_guard() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    lost uuid;
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('mantis.ledger_archive', true) = 'on' THEN
        SELECT g.id INTO lost FROM gone g
        WHERE NOT EXISTS (SELECT FROM core.stock_movement m WHERE m.id = g.id)
        LIMIT 1;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION 'core.stock_movement_archive keeps archived movements: % is refused%', lower(TG_OP),
        CASE WHEN lost IS NOT NULL THEN format(' (movement %s is not back in core.stock_movement)', lost) ELSE '' END
        USING ERRCODE = 'restrict_violation',
              HINT = 'put archived movements back with mantis ledger unarchive';
END
$$;

DROP TRIGGER IF EXISTS trg_stock_movement_archive_no_update ON core.stock_movement_archive;
CREATE TRIGGER trg_stock_movement_archive_no_update
    BEFORE UPDATE ON core.stock_movement_archive
    FOR EACH STATEMENT EXECUTE FUNCTION core.stock_movement_archive_guard();
DROP TRIGGER IF EXISTS trg_stock_movement_archive_no_truncate ON core.stock_movement_archive;
CREATE TRIGGER trg_stock_movement_archive_no_truncate
    BEFORE TRUNCATE ON core.stock_movement_archive
    FOR EACH STATEMENT EXECUTE FUNCTION core.stock_movement_archive_guard();
DROP TRIGGER IF EXISTS trg_stock_movement_archive_delete ON core.stock_movement_archive;
CREATE TRIGGER trg_stock_movement_archive_delete
    AFTER DELETE ON core.stock_movement_archive
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION core.stock_movement_archive_guard();

-- Movements stay append-only; only the archiver (mantis.ledger_archive) may
-- delete, and what it deletes is checked once per statement.
DROP TRIGGER IF EXISTS trg_stock_movement_append_only ON core.stock_movement;
CREATE TRIGGER trg_stock_movement_append_only
    BEFORE UPDATE OR DELETE ON core.stock_movement
    FOR EACH ROW WHEN (current_setting('mantis.ledger_archive', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION core.stock_movement_append_only();
DROP TRIGGER IF EXISTS trg_stock_movement_no_update ON core.stock_movement;
CREATE TRIGGER trg_stock_movement_no_update
    BEFORE UPDATE ON core.stock_movement
    FOR EACH ROW EXECUTE FUNCTION core.stock_movement_append_only();
DROP TRIGGER IF EXISTS trg_stock_movement_archived ON core.stock_movement;
CREATE TRIGGER trg_stock_movement_archived
    AFTER DELETE ON core.stock_movement
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION core.check_movements_archived();

-- One key range of products: for each stock row with two or more movements
-- created before `before`, those movements go to the archive and one
-- carried-balance ADJUSTMENT (their quantity and value, at the place of the
-- last of them: its seq and time) stands for them. Left in place: a stock row
-- whose old movements net to zero quantity but not to zero value (no movement
-- can carry that), and one whose old movements are reversed by a movement
-- that stays. Idempotent: a stock row already archived has one old movement.
CREATE OR REPLACE FUNCTION core.ledger_archive_batch(before timestamptz, first_product uuid, last_product uuid)
    RETURNS TABLE (stock_rows integer, movements bigint, carried integer, kept integer)
    LANGUAGE plpgsql AS
$$
#variable_conflict use_column
DECLARE
    moving  uuid[];
    carries uuid[];
    n_rows  integer;
    carry_n integer;
    kept_n  integer;
BEGIN
    -- The old movements of the range, read once: the carries are summed from
    -- exactly the rows that move.
    CREATE TEMP TABLE IF NOT EXISTS ledger_archive_rows (
        id uuid, product_id uuid, warehouse_id uuid, quantity numeric, value_delta numeric,
        seq bigint, created_at timestamptz, unit text, keyed boolean) ON COMMIT DROP;
    CREATE TEMP TABLE IF NOT EXISTS ledger_archive_groups (
        product_id uuid, warehouse_id uuid, carry uuid, n bigint, q numeric, v numeric,
        last_seq bigint, first_at timestamptz, last_at timestamptz, unit text) ON COMMIT DROP;
    TRUNCATE ledger_archive_rows, ledger_archive_groups;
    INSERT INTO ledger_archive_rows
    SELECT m.id, m.product_id, m.warehouse_id, m.quantity, m.value_delta, m.seq, m.created_at, m.unit_of_measure,
           m.idempotency_key IS NOT NULL
    FROM core.stock_movement m
    WHERE m.product_id BETWEEN first_product AND last_product AND m.created_at < before;

    INSERT INTO ledger_archive_groups
    SELECT g.product_id, g.warehouse_id, CASE WHEN g.q <> 0 THEN gen_random_uuid() END,
           g.n, g.q, g.v, g.last_seq, g.first_at, g.last_at, g.unit
    FROM (SELECT r.product_id, r.warehouse_id, count(*) AS n, sum(r.quantity) AS q,
                 sum(r.value_delta) AS v, max(r.seq) AS last_seq,
                 min(r.created_at) AS first_at, max(r.created_at) AS last_at, max(r.unit) AS unit
          FROM ledger_archive_rows r
          GROUP BY 1, 2
          HAVING count(*) > 1) g
    -- A movement reversed by one that stays must stay too.
    WHERE NOT EXISTS (
        SELECT FROM ledger_archive_rows o
        JOIN core.stock_movement r ON r.reverses_id = o.id
        WHERE o.product_id = g.product_id AND o.warehouse_id = g.warehouse_id
          AND (r.created_at >= before OR r.product_id <> o.product_id OR r.warehouse_id <> o.warehouse_id));

    DELETE FROM ledger_archive_groups WHERE q = 0 AND coalesce(v, 0) <> 0;
    GET DIAGNOSTICS kept_n = ROW_COUNT;

    -- The stock rows whose old movements carry idempotency keys, locked in
    -- the posting order: a posting that checks a key under its row's lock
    -- finds it hot or archived, never in between. Held until this batch
    -- commits. Other rows are not locked: nothing here changes a stock row,
    -- and moving a movement with its carry keeps every sum as it was.
    PERFORM FROM core.stock_on_hand s
    JOIN ledger_archive_groups g ON g.product_id = s.product_id AND g.warehouse_id = s.warehouse_id
    WHERE EXISTS (SELECT FROM ledger_archive_rows r
                  WHERE r.product_id = g.product_id AND r.warehouse_id = g.warehouse_id AND r.keyed)
    ORDER BY s.product_id, s.warehouse_id
    FOR UPDATE OF s;

    SELECT array_agg(r.id), array_agg(g.carry)
    INTO moving, carries
    FROM ledger_archive_groups g
    JOIN ledger_archive_rows r ON r.product_id = g.product_id AND r.warehouse_id = g.warehouse_id;
    IF moving IS NULL THEN
        RETURN QUERY SELECT 0, 0::bigint, 0, kept_n;
        RETURN;
    END IF;

    -- The carried balances: replayed facts, not postings (the stock row does
    -- not change).
    PERFORM set_config('mantis.ledger_replay', 'on', true);
    INSERT INTO core.stock_movement
        (id, product_id, warehouse_id, movement_type, quantity, unit_of_measure, cost_price, value_delta,
         seq, reference_type, reference_number, notes, metadata, created_at)
    SELECT g.carry, g.product_id, g.warehouse_id, 'ADJUSTMENT', g.q, g.unit, NULL, g.v,
           g.last_seq, 'SYSTEM_ADJUSTMENT', 'CARRIED-BALANCE',
           format('Balance of %s movement(s) before %s, archived', g.n, before),
           jsonb_build_object('carried_balance', jsonb_build_object(
               'before', before, 'movements', g.n, 'from', g.first_at, 'to', g.last_at)),
           g.last_at
    FROM ledger_archive_groups g
    WHERE g.carry IS NOT NULL;
    GET DIAGNOSTICS carry_n = ROW_COUNT;
    PERFORM set_config('mantis.ledger_replay', '', true);

    EXECUTE format('INSERT INTO core.stock_movement_archive (%1$s, carried_by)
                    SELECT %2$s, x.carry
                    FROM unnest($1, $2) AS x(id, carry)
                    JOIN core.stock_movement m ON m.id = x.id',
                   core.stock_movement_columns(false),
                   (SELECT string_agg('m.' || c, ', ') FROM unnest(string_to_array(core.stock_movement_columns(false), ', ')) c))
        USING moving, carries;

    PERFORM set_config('mantis.ledger_archive', 'on', true);
    DELETE FROM core.stock_movement m USING unnest(moving) AS x(id) WHERE m.id = x.id;
    PERFORM set_config('mantis.ledger_archive', '', true);

    SELECT count(*) INTO n_rows FROM ledger_archive_groups;
    RETURN QUERY SELECT n_rows, cardinality(moving)::bigint, carry_n, kept_n;
END
$$;

-- One key range of products, back from the archive: every archived movement
-- of those products returns to the hot table (seq, time and value as they
-- were) and the carried balances that stood for them go.
CREATE OR REPLACE FUNCTION core.ledger_unarchive_batch(first_product uuid, last_product uuid)
    RETURNS TABLE (movements bigint, carried integer)
    LANGUAGE plpgsql AS
$$
#variable_conflict use_column
DECLARE
    back    uuid[];
    carries uuid[];
BEGIN
    SELECT array_agg(a.id), array_agg(DISTINCT a.carried_by) FILTER (WHERE a.carried_by IS NOT NULL)
    INTO back, carries
    FROM core.stock_movement_archive a
    WHERE a.product_id BETWEEN first_product AND last_product;
    IF back IS NULL THEN
        RETURN QUERY SELECT 0::bigint, 0;
        RETURN;
    END IF;

    PERFORM set_config('mantis.ledger_replay', 'on', true);
    EXECUTE format('INSERT INTO core.stock_movement (%1$s)
                    SELECT %1$s FROM core.stock_movement_archive WHERE id = ANY ($1)',
                   core.stock_movement_columns(true))
        USING back;
    PERFORM set_config('mantis.ledger_replay', '', true);

    PERFORM set_config('mantis.ledger_archive', 'on', true);
    DELETE FROM core.stock_movement_archive a USING unnest(back) AS x(id) WHERE a.id = x.id;
    DELETE FROM core.stock_movement m USING unnest(coalesce(carries, '{}')) AS x(id) WHERE m.id = x.id;
    PERFORM set_config('mantis.ledger_archive', '', true);

    RETURN QUERY SELECT cardinality(back)::bigint, coalesce(cardinality(carries), 0);
END
$$;

COMMIT;
