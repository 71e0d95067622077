-- Checks of migration 004: the ledger's rules are in place and its books
-- balance. Each query returns the rows that are wrong (none = pass); each DO
-- block raises when a rule does not hold. mantis runs them in one transaction
-- that it rolls back, so the rule tests below leave nothing behind.

-- section: 1 Ledger schema
-- check: ledger columns exist with their types
SELECT c.table_name, c.column_name, c.expected, coalesce(format_type(a.atttypid, a.atttypmod), 'missing') AS found
FROM (VALUES
    ('stock_movement', 'value_delta', 'numeric(38,10)'),
    ('stock_movement', 'seq', 'bigint'),
    ('stock_movement', 'idempotency_key', 'text'),
    ('stock_movement', 'reverses_id', 'uuid'),
    ('warehouses', 'allow_negative_stock', 'boolean')) AS c(table_name, column_name, expected)
LEFT JOIN pg_attribute a
       ON a.attrelid = to_regclass('core.' || c.table_name) AND a.attname = c.column_name AND NOT a.attisdropped
WHERE format_type(a.atttypid, a.atttypmod) IS DISTINCT FROM c.expected;

-- check: ledger triggers exist, are enabled and call the ledger's functions
SELECT t.relname, t.trigger_name, t.function_name
FROM (VALUES
    ('stock_movement', 'stock_movement_update_cost', 'post_stock_movement'),
    ('stock_movement', 'trg_stock_movement_append_only', 'stock_movement_append_only'),
    ('stock_movement', 'trg_stock_movement_no_truncate', 'stock_movement_append_only'),
    ('stock_movement', 'trg_stock_movement_transfer_balanced', 'check_transfer_balanced'),
    ('stock_on_hand', 'trg_stock_on_hand_capture', 'capture_stock_change')) AS t(relname, trigger_name, function_name)
WHERE NOT EXISTS (
    SELECT FROM pg_trigger g
    WHERE g.tgrelid = to_regclass('core.' || t.relname)
      AND g.tgname = t.trigger_name
      AND g.tgfoid = to_regproc('core.' || t.function_name)
      AND g.tgenabled IN ('O', 'A'));

-- check: the idempotency key is unique and its index is valid
SELECT i AS missing_or_invalid_index
FROM unnest(ARRAY['stock_movement_idempotency_key', 'stock_movement_reverses_idx']) AS i
WHERE NOT EXISTS (
    SELECT FROM pg_index x
    WHERE x.indexrelid = to_regclass('core.' || i) AND x.indisvalid AND x.indisready);

-- section: 2 Books
-- drift-check: skip
-- check: quantity on hand is the sum of movements
SELECT coalesce(s.product_id, m.product_id) AS product_id,
       coalesce(s.warehouse_id, m.warehouse_id) AS warehouse_id,
       coalesce(s.quantity, 0) AS on_hand, coalesce(m.total, 0) AS sum_of_movements
FROM core.stock_on_hand s
FULL JOIN (SELECT product_id, warehouse_id, sum(quantity) AS total
           FROM core.stock_movement GROUP BY 1, 2) m
       ON m.product_id = s.product_id AND m.warehouse_id = s.warehouse_id
WHERE coalesce(s.quantity, 0) <> coalesce(m.total, 0);

-- check: stock value is exactly the sum of movement values
SELECT s.product_id, s.warehouse_id, s.total_value, coalesce(m.total, 0) AS sum_of_values
FROM core.stock_on_hand s
LEFT JOIN (SELECT product_id, warehouse_id, sum(value_delta) AS total
           FROM core.stock_movement GROUP BY 1, 2) m
       ON m.product_id = s.product_id AND m.warehouse_id = s.warehouse_id
WHERE coalesce(s.total_value, 0) <> coalesce(m.total, 0);

-- check: zero quantity means zero value
SELECT id, product_id, warehouse_id, total_value
FROM core.stock_on_hand
WHERE quantity = 0 AND total_value <> 0;

-- check: every transfer balances in quantity and value
-- (value: when the sender's cost was known; stock without a cost has no value to move)
SELECT reference_type, reference_id, product_id, sum(quantity) AS net_quantity,
       sum(quantity * cost_price) AS net_value
FROM core.stock_movement
WHERE movement_type = 'TRANSFER'
GROUP BY reference_type, reference_id, product_id
HAVING sum(quantity) <> 0 OR (bool_and(cost_price IS NOT NULL) AND sum(quantity * cost_price) <> 0);

-- check: no negative stock where the warehouse does not allow it
-- severity: warning
SELECT w.code AS warehouse, p.sku, s.quantity
FROM core.stock_on_hand s
JOIN core.warehouses w ON w.id = s.warehouse_id
JOIN core.products p ON p.id = s.product_id
WHERE s.quantity < 0 AND NOT w.allow_negative_stock;

-- section: 3 Rule tests
-- drift-check: skip
-- check: a receipt, a shipment and a receipt after a stock-out follow the average-cost rule
-- supersedes: 3 a receipt moves the quantity and the weighted average cost
DO $$
DECLARE
    p uuid;
    w uuid;
    s core.stock_on_hand%ROWTYPE;
BEGIN
    INSERT INTO core.products (sku, name) VALUES ('VERIFY-004-A', 'verify 004') RETURNING id INTO p;
    INSERT INTO core.warehouses (code, name) VALUES ('VERIFY-004-A', 'verify 004') RETURNING id INTO w;
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price)
    VALUES (p, w, 'RECEIPT', 3, 10), (p, w, 'RECEIPT', 1, 20);
    SELECT * INTO s FROM core.stock_on_hand WHERE product_id = p AND warehouse_id = w;
    IF (s.quantity, s.cost_price) IS DISTINCT FROM (4::numeric, 12.5::numeric) THEN
        RAISE EXCEPTION 'after receipts of 3 at 10 and 1 at 20: expected 4 at 12.5, found % at %', s.quantity, s.cost_price;
    END IF;
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity)
    VALUES (p, w, 'SHIPMENT', -4);
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price)
    VALUES (p, w, 'RECEIPT', 2, 7);
    SELECT * INTO s FROM core.stock_on_hand WHERE product_id = p AND warehouse_id = w;
    IF (s.quantity, s.cost_price, s.total_value) IS DISTINCT FROM (2::numeric, 7::numeric, 14::numeric) THEN
        RAISE EXCEPTION 'a receipt after a stock-out must take the incoming cost: expected 2 at 7, found % at %', s.quantity, s.cost_price;
    END IF;
    IF (SELECT cost_price FROM core.stock_movement WHERE product_id = p AND movement_type = 'SHIPMENT') IS DISTINCT FROM 12.5 THEN
        RAISE EXCEPTION 'a shipment must record the unit cost it left at (12.5)';
    END IF;
END
$$;

-- check: a shipment beyond the stock on hand is rejected
DO $$
DECLARE
    p uuid;
    w uuid;
BEGIN
    INSERT INTO core.products (sku, name) VALUES ('VERIFY-004-B', 'verify 004') RETURNING id INTO p;
    INSERT INTO core.warehouses (code, name) VALUES ('VERIFY-004-B', 'verify 004') RETURNING id INTO w;
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price)
    VALUES (p, w, 'RECEIPT', 1, 5);
    BEGIN
        INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity)
        VALUES (p, w, 'SHIPMENT', -2);
        RAISE EXCEPTION 'a shipment of 2 from a stock of 1 was accepted';
    EXCEPTION WHEN check_violation THEN
        NULL; -- expected
    END;
END
$$;

-- check: movements cannot be changed or deleted
DO $$
DECLARE
    m uuid;
BEGIN
    SELECT id INTO m FROM core.stock_movement LIMIT 1;
    IF m IS NULL THEN
        RETURN; -- no movement to test against
    END IF;
    BEGIN
        UPDATE core.stock_movement SET notes = 'changed by verify' WHERE id = m;
        RAISE EXCEPTION 'a movement was changed';
    EXCEPTION WHEN restrict_violation THEN
        NULL; -- expected
    END;
    BEGIN
        DELETE FROM core.stock_movement WHERE id = m;
        RAISE EXCEPTION 'a movement was deleted';
    EXCEPTION WHEN restrict_violation THEN
        NULL; -- expected
    END;
END
$$;

-- check: a direct change of the quantity on hand is recorded as an adjustment
DO $$
DECLARE
    s     core.stock_on_hand%ROWTYPE;
    after numeric;
BEGIN
    SELECT * INTO s FROM core.stock_on_hand WHERE quantity >= 1 ORDER BY id LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE core.stock_on_hand SET quantity = quantity - 1 WHERE id = s.id;
    SELECT sum(quantity) INTO after FROM core.stock_movement
    WHERE product_id = s.product_id AND warehouse_id = s.warehouse_id;
    IF after IS DISTINCT FROM s.quantity - 1 THEN
        RAISE EXCEPTION 'after a direct change to %, the movements sum to %', s.quantity - 1, after;
    END IF;
END
$$;

-- check: a source line posted twice is applied once
DO $$
DECLARE
    p uuid;
    w uuid;
    n int;
BEGIN
    INSERT INTO core.products (sku, name) VALUES ('VERIFY-004-C', 'verify 004') RETURNING id INTO p;
    INSERT INTO core.warehouses (code, name) VALUES ('VERIFY-004-C', 'verify 004') RETURNING id INTO w;
    FOR i IN 1..2 LOOP
        INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price, idempotency_key)
        VALUES (p, w, 'RECEIPT', 5, 1, 'verify-004:PO-1:1');
    END LOOP;
    SELECT count(*) INTO n FROM core.stock_movement WHERE idempotency_key = 'verify-004:PO-1:1';
    IF n <> 1 OR (SELECT quantity FROM core.stock_on_hand WHERE product_id = p AND warehouse_id = w) IS DISTINCT FROM 5 THEN
        RAISE EXCEPTION 'a line posted twice was applied % times', n;
    END IF;
END
$$;

-- check: a transfer moves stock at the sender's unit cost
DO $$
DECLARE
    p   uuid;
    a   uuid;
    b   uuid;
    ref uuid := gen_random_uuid();
BEGIN
    INSERT INTO core.products (sku, name) VALUES ('VERIFY-004-D', 'verify 004') RETURNING id INTO p;
    INSERT INTO core.warehouses (code, name) VALUES ('VERIFY-004-D1', 'verify 004') RETURNING id INTO a;
    INSERT INTO core.warehouses (code, name) VALUES ('VERIFY-004-D2', 'verify 004') RETURNING id INTO b;
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price)
    VALUES (p, a, 'RECEIPT', 10, 4), (p, b, 'RECEIPT', 10, 8);
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, reference_type, reference_id)
    VALUES (p, a, 'TRANSFER', -5, 'TRANSFER_ORDER', ref), (p, b, 'TRANSFER', 5, 'TRANSFER_ORDER', ref);
    IF (SELECT cost_price FROM core.stock_on_hand WHERE product_id = p AND warehouse_id = b) IS DISTINCT FROM 6.666667 THEN
        RAISE EXCEPTION 'the receiving side must average in the sender''s cost 4: expected 6.666667, found %',
            (SELECT cost_price FROM core.stock_on_hand WHERE product_id = p AND warehouse_id = b);
    END IF;
    SET CONSTRAINTS ALL IMMEDIATE; -- the balance check runs now, not at commit
END
$$;

-- check: every role that could read or write stock still can, as itself (ADR-029)
-- Each role this session may become reads the movements and the views and, if
-- it may update stock, writes a stock row directly and posts a movement, on a
-- product and warehouse made here; every role's writes are undone. Roles this
-- session may not become are checked by privilege in 003's suite.
DO $$
DECLARE
    r        record;
    p        uuid;
    w        uuid;
    failures text[] := '{}';
BEGIN
    INSERT INTO core.products (sku, name) VALUES ('VERIFY-004-R', 'verify 004') RETURNING id INTO p;
    INSERT INTO core.warehouses (code, name) VALUES ('VERIFY-004-R', 'verify 004') RETURNING id INTO w;
    INSERT INTO core.stock_on_hand (product_id, warehouse_id, quantity) VALUES (p, w, 5);
    FOR r IN
        SELECT a.grantee::regrole AS role, bool_or(a.privilege_type = 'UPDATE') AS writes
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE c.oid = 'core.stock_on_hand'::regclass AND a.grantee <> 0 AND a.grantee <> c.relowner
          AND a.privilege_type IN ('SELECT', 'UPDATE')
          AND CASE WHEN current_setting('server_version_num')::int >= 160000
                   THEN pg_has_role(current_user, a.grantee, 'SET')
                   ELSE pg_has_role(current_user, a.grantee, 'MEMBER') END
        GROUP BY a.grantee
    LOOP
        BEGIN
            EXECUTE format('SET LOCAL ROLE %s', r.role);
            IF has_table_privilege('core.stock_on_hand', 'SELECT') THEN
                PERFORM FROM core.stock_movement LIMIT 1;
                PERFORM FROM core.mv_inventory_valuation LIMIT 1;
                PERFORM FROM core.mv_product_stock_summary LIMIT 1;
                PERFORM FROM core.mv_low_stock_alerts LIMIT 1;
            END IF;
            IF r.writes THEN
                UPDATE core.stock_on_hand SET quantity = quantity + 1 WHERE product_id = p AND warehouse_id = w;
                INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity)
                VALUES (p, w, 'RECEIPT', 1);
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'MV001', MESSAGE = 'undo this role''s writes';
        EXCEPTION
            WHEN SQLSTATE 'MV001' THEN
                NULL; -- everything worked; the writes are undone with the subtransaction
            WHEN insufficient_privilege THEN
                failures := failures || format('%s: %s', r.role, SQLERRM);
        END;
    END LOOP;
    IF failures <> '{}' THEN
        RAISE EXCEPTION 'roles that could use stock before 004 cannot now: %', array_to_string(failures, '; ')
            USING HINT = 'the ledger''s triggers run as the writing role: it needs SELECT on core.products and core.warehouses (docs/ledger.md, "Roles")';
    END IF;
END
$$;

-- section: 4 Summary
-- report: the ledger
SELECT
    (SELECT count(*) FROM core.stock_movement)                          AS movements,
    (SELECT count(*) FROM core.stock_movement WHERE seq IS NOT NULL)    AS posted_since_004,
    (SELECT count(*) FROM core.stock_movement WHERE reference_number = 'DIRECT-WRITE') AS direct_writes_captured,
    (SELECT coalesce(sum(total_value), 0) FROM core.stock_on_hand)      AS stock_value,
    (SELECT count(*) FROM core.warehouses WHERE allow_negative_stock)   AS warehouses_allowing_negative;
