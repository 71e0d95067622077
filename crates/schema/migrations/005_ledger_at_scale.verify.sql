-- Checks of migration 005: set-based posting and the archive are in place,
-- and the books balance across the hot table and the archive. Each query
-- returns the rows that are wrong (none = pass); each DO block raises when a
-- rule does not hold. mantis runs them in one transaction that it rolls back.

-- section: 1 Ledger at scale: schema
-- check: the posting, archiving and guard functions exist
SELECT f AS missing_function
FROM unnest(ARRAY[
    'core.ledger_apply(uuid[], uuid[], uuid[], core.movement_type[], numeric[], numeric[], core.reference_type[], uuid[], text[])',
    'core.post_movements(uuid[], text[], text[], text[], numeric[], numeric[], text[], uuid[], text[], text[], text[])',
    'core.ledger_archive_batch(timestamptz, uuid, uuid)',
    'core.ledger_unarchive_batch(uuid, uuid)',
    'core.check_movements_archived()',
    'core.stock_movement_archive_guard()']) AS f
WHERE to_regprocedure(f) IS NULL;

-- check: the archive's guards and the hot table's delete check are enabled
SELECT t.relname, t.trigger_name
FROM (VALUES
    ('stock_movement', 'trg_stock_movement_archived'),
    ('stock_movement', 'trg_stock_movement_no_update'),
    ('stock_movement_archive', 'trg_stock_movement_archive_no_update'),
    ('stock_movement_archive', 'trg_stock_movement_archive_no_truncate'),
    ('stock_movement_archive', 'trg_stock_movement_archive_delete')) AS t(relname, trigger_name)
WHERE NOT EXISTS (
    SELECT FROM pg_trigger g
    WHERE g.tgrelid = to_regclass('core.' || t.relname) AND g.tgname = t.trigger_name
      AND g.tgenabled IN ('O', 'A'));

-- section: 2 Books across the archive
-- drift-check: skip
-- check: each carried balance is exactly the movements it stands for
SELECT c.id AS carry, c.product_id, c.warehouse_id, c.quantity, c.value_delta,
       a.quantity AS archived_quantity, a.value AS archived_value
FROM (SELECT id, product_id, warehouse_id, quantity, value_delta FROM core.stock_movement
      WHERE reference_number = 'CARRIED-BALANCE'
      UNION ALL
      SELECT id, product_id, warehouse_id, quantity, value_delta FROM core.stock_movement_archive
      WHERE reference_number = 'CARRIED-BALANCE') c
JOIN (SELECT carried_by, sum(quantity) AS quantity, sum(value_delta) AS value
      FROM core.stock_movement_archive WHERE carried_by IS NOT NULL GROUP BY 1) a
  ON a.carried_by = c.id
WHERE c.quantity <> a.quantity OR coalesce(c.value_delta, 0) <> coalesce(a.value, 0);

-- check: every archived movement's carried balance exists
SELECT a.id, a.carried_by
FROM core.stock_movement_archive a
WHERE a.carried_by IS NOT NULL
  AND NOT EXISTS (SELECT FROM core.stock_movement m WHERE m.id = a.carried_by)
  AND NOT EXISTS (SELECT FROM core.stock_movement_archive b WHERE b.id = a.carried_by);

-- check: movements archived without a carried balance net to zero
SELECT product_id, warehouse_id, sum(quantity) AS net_quantity, sum(value_delta) AS net_value
FROM core.stock_movement_archive
WHERE carried_by IS NULL
GROUP BY 1, 2
HAVING sum(quantity) <> 0 OR coalesce(sum(value_delta), 0) <> 0;

-- check: no movement is both hot and archived
SELECT a.id FROM core.stock_movement_archive a JOIN core.stock_movement m ON m.id = a.id;

-- section: 3 Ledger at scale: rule tests
-- drift-check: skip
-- check: a batch posted set-based folds its lines in order like the row trigger
DO $$
DECLARE
    p uuid;
    w uuid;
    s core.stock_on_hand%ROWTYPE;
    applied integer;
BEGIN
    INSERT INTO core.products (sku, name) VALUES ('VERIFY-005-A', 'verify 005') RETURNING id INTO p;
    INSERT INTO core.warehouses (code, name) VALUES ('VERIFY-005-A', 'verify 005') RETURNING id INTO w;
    SELECT count(*) INTO applied
    FROM core.post_movements(
        ARRAY[gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid()],
        ARRAY['VERIFY-005-A', 'VERIFY-005-A', 'VERIFY-005-A', 'VERIFY-005-A'],
        ARRAY['VERIFY-005-A', 'VERIFY-005-A', 'VERIFY-005-A', 'VERIFY-005-A'],
        ARRAY['RECEIPT', 'RECEIPT', 'SHIPMENT', 'RECEIPT'],
        ARRAY[3, 1, -4, 2]::numeric[], ARRAY[10, 20, NULL, 7]::numeric[],
        ARRAY[NULL, NULL, NULL, 'PURCHASE_ORDER'], ARRAY[NULL, NULL, NULL, NULL]::uuid[],
        ARRAY[NULL, NULL, NULL, 'PO-V5'], ARRAY[NULL, NULL, NULL, NULL]::text[],
        ARRAY[NULL, NULL, NULL, 'verify-005-a']);
    SELECT * INTO s FROM core.stock_on_hand WHERE product_id = p AND warehouse_id = w;
    IF (applied, s.quantity, s.cost_price, s.total_value) IS DISTINCT FROM (4, 2::numeric, 7::numeric, 14::numeric) THEN
        RAISE EXCEPTION 'receipts of 3 at 10 and 1 at 20, a shipment of 4, a receipt of 2 at 7: expected 4 lines and 2 at 7, found % lines and % at %',
            applied, s.quantity, s.cost_price;
    END IF;
    IF (SELECT cost_price FROM core.stock_movement WHERE product_id = p AND movement_type = 'SHIPMENT') IS DISTINCT FROM 12.5 THEN
        RAISE EXCEPTION 'the shipment must leave at the average of its moment (12.5)';
    END IF;
END
$$;

-- check: an archived movement cannot be changed, and the archive cannot be emptied by hand
DO $$
DECLARE
    p uuid;
    w uuid;
BEGIN
    BEGIN
        UPDATE core.stock_movement_archive SET notes = 'changed';
        RAISE EXCEPTION 'an UPDATE of the archive was accepted';
    EXCEPTION WHEN restrict_violation THEN
        NULL; -- expected
    END;
    BEGIN
        TRUNCATE core.stock_movement_archive;
        RAISE EXCEPTION 'a TRUNCATE of the archive was accepted';
    EXCEPTION WHEN restrict_violation THEN
        NULL; -- expected
    END;
    INSERT INTO core.products (sku, name) VALUES ('VERIFY-005-B', 'verify 005') RETURNING id INTO p;
    INSERT INTO core.warehouses (code, name) VALUES ('VERIFY-005-B', 'verify 005') RETURNING id INTO w;
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price)
    VALUES (p, w, 'RECEIPT', 1, 5), (p, w, 'RECEIPT', 2, 5);
    -- Even with the archiver's setting, a movement that is not in the
    -- archive (and is not a carried balance) cannot be deleted.
    BEGIN
        PERFORM set_config('mantis.ledger_archive', 'on', true);
        DELETE FROM core.stock_movement WHERE product_id = p;
        RAISE EXCEPTION 'movements that are not archived were deleted';
    EXCEPTION WHEN restrict_violation THEN
        NULL; -- expected
    END;
    PERFORM set_config('mantis.ledger_archive', '', true);
END
$$;
