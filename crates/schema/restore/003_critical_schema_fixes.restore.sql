-- Puts back the data that `003_critical_schema_fixes.down.sql` saved, after 003
-- has been applied again. One statement, so it is atomic on its own.
--
-- The backup to read is named by the session setting mantis.restore_from:
--   psql -v ON_ERROR_STOP=1 -c "SET mantis.restore_from = 'mantis_backup_003_...'" -f THIS_FILE
-- (`mantis up --restore-backup NAME|latest` does the same.)
--
-- What it does, against the freshly re-applied 003:
--   brands          replaced by the saved set (same ids, codes, timestamps);
--   product brands  saved links restored; other products relinked by brand text;
--   movements       replaced by the saved ledger; where a stock quantity changed
--                   while 003 was rolled back, one ADJUSTMENT (RESTORE-TRUE-UP)
--                   movement records the difference, so quantity = sum(movements);
--   unit costs      restored with their source and method, matched by stock row;
--   contacts        restored for every supplier that still exists;
--   reports         the backfill reports of the first run.
-- Rows for products, warehouses or suppliers deleted in between are skipped and
-- counted in the final NOTICE.
DO $$
DECLARE
    source  text := current_setting('mantis.restore_from', true);
    info    jsonb;
    skipped bigint;
    n       bigint;
    summary jsonb := '{}'::jsonb;
BEGIN
    IF source IS NULL OR source = '' THEN
        RAISE EXCEPTION 'no backup named'
            USING HINT = 'SET mantis.restore_from = ''mantis_backup_003_...'' first; `mantis backups` lists them.';
    END IF;
    SELECT obj_description(oid, 'pg_namespace')::jsonb INTO info FROM pg_namespace WHERE nspname = source;
    IF info IS NULL OR (info->>'version')::int IS DISTINCT FROM 3 THEN
        RAISE EXCEPTION 'schema % is not a backup of migration 003', source
            USING HINT = '`mantis backups` lists the saved sets.';
    END IF;
    IF to_regclass('core.stock_movement') IS NULL THEN
        RAISE EXCEPTION 'migration 003 is not applied'
            USING HINT = 'apply 003 first (mantis up), then restore.';
    END IF;
    PERFORM set_config('mantis.ledger_replay', 'on', true);

    -- Brands: keep product links by id, swap the catalogue, then relink.
    UPDATE core.products SET brand_id = NULL WHERE brand_id IS NOT NULL;
    DELETE FROM core.brand;
    EXECUTE format('INSERT INTO core.brand (id, name, code, description, logo_url, website, country_of_origin,
                                            is_active, metadata, created_at, updated_at, created_by, updated_by)
                    SELECT b.id, b.name, b.code, b.description, b.logo_url, b.website, b.country_of_origin,
                           b.is_active, b.metadata, b.created_at, b.updated_at,
                           (SELECT u.id FROM core.users u WHERE u.id = b.created_by),
                           (SELECT u.id FROM core.users u WHERE u.id = b.updated_by)
                    FROM %I.brand b', source);
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := summary || jsonb_build_object('brands', n);
    EXECUTE format('UPDATE core.products p SET brand_id = b.brand_id FROM %I.product_brand b
                    WHERE p.id = b.product_id', source);
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := summary || jsonb_build_object('product_links', n);
    EXECUTE format('UPDATE core.products p SET brand_id = b.id FROM core.brand b
                    WHERE p.brand_id IS NULL AND btrim(p.brand_from_supplier) <> ''''
                      AND core.brand_key(p.brand_from_supplier) = core.brand_key(b.name)
                      AND NOT EXISTS (SELECT FROM %I.product_brand s WHERE s.product_id = p.id)', source);
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := summary || jsonb_build_object('products_relinked_by_text', n);

    -- The ledger.
    DELETE FROM core.stock_movement;
    -- Sets saved before 003 created value_delta have none: 004 values them.
    EXECUTE format('INSERT INTO core.stock_movement
                        (id, product_id, warehouse_id, movement_type, quantity, unit_of_measure, cost_price,
                         value_delta, reference_type, reference_id, reference_number, notes, metadata,
                         created_by, created_at)
                    SELECT m.id, m.product_id, m.warehouse_id, m.movement_type::core.movement_type, m.quantity,
                           m.unit_of_measure, m.cost_price, %s, m.reference_type::core.reference_type, m.reference_id,
                           m.reference_number, m.notes, m.metadata,
                           (SELECT u.id FROM core.users u WHERE u.id = m.created_by), m.created_at
                    FROM %I.stock_movement m
                    WHERE EXISTS (SELECT FROM core.products p WHERE p.id = m.product_id)
                      AND EXISTS (SELECT FROM core.warehouses w WHERE w.id = m.warehouse_id)',
                   CASE WHEN EXISTS (SELECT FROM pg_attribute
                                     WHERE attrelid = to_regclass(quote_ident(source) || '.stock_movement')
                                       AND attname = 'value_delta' AND NOT attisdropped)
                        THEN 'm.value_delta' ELSE 'NULL' END,
                   source);
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := summary || jsonb_build_object('movements', n);
    EXECUTE format('SELECT count(*) FROM %I.stock_movement', source) INTO skipped;
    summary := summary || jsonb_build_object('movements_skipped', skipped - n);

    -- Unit costs, matched by (product, warehouse).
    EXECUTE format('UPDATE core.stock_on_hand s
                    SET cost_price = c.cost_price, cost_method = c.cost_method::core.cost_method,
                        cost_source = c.cost_source, last_cost_update_at = c.last_cost_update_at
                    FROM %I.stock_cost c
                    WHERE s.product_id = c.product_id AND s.warehouse_id = c.warehouse_id', source);
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := summary || jsonb_build_object('stock_costs', n);

    -- Stock rows whose quantity moved while 003 was rolled back.
    INSERT INTO core.stock_movement
        (product_id, warehouse_id, movement_type, quantity, unit_of_measure, cost_price,
         reference_type, reference_number, notes)
    SELECT s.product_id, s.warehouse_id, 'ADJUSTMENT', s.quantity - coalesce(m.total, 0),
           p.unit_of_measure, s.cost_price, 'SYSTEM_ADJUSTMENT', 'RESTORE-TRUE-UP',
           'Quantity changed while migration 003 was rolled back'
    FROM core.stock_on_hand s
    JOIN core.products p ON p.id = s.product_id
    LEFT JOIN (SELECT product_id, warehouse_id, sum(quantity) AS total
               FROM core.stock_movement GROUP BY 1, 2) m
           ON m.product_id = s.product_id AND m.warehouse_id = s.warehouse_id
    WHERE s.quantity <> coalesce(m.total, 0);
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := summary || jsonb_build_object('true_up_movements', n);

    -- Supplier contacts.
    EXECUTE format('UPDATE core.suppliers s
                    SET contact_phone = c.contact_phone, contact_email = c.contact_email,
                        website = c.website, payment_terms = c.payment_terms
                    FROM %I.supplier_contact c WHERE s.id = c.supplier_id', source);
    GET DIAGNOSTICS n = ROW_COUNT;
    summary := summary || jsonb_build_object('supplier_contacts', n);

    -- The first run's reports.
    DELETE FROM core.supplier_contact_issue;
    EXECUTE format('INSERT INTO core.supplier_contact_issue (supplier_id, field, value, reason, detected_at)
                    SELECT i.supplier_id, i.field, i.value, i.reason, i.detected_at FROM %I.supplier_contact_issue i
                    WHERE EXISTS (SELECT FROM core.suppliers s WHERE s.id = i.supplier_id)', source);
    DELETE FROM core.product_brand_issue;
    EXECUTE format('INSERT INTO core.product_brand_issue (product_id, legacy_brand_id, brand_text, resolution, detected_at)
                    SELECT i.product_id, i.legacy_brand_id, i.brand_text, i.resolution, i.detected_at
                    FROM %I.product_brand_issue i
                    WHERE EXISTS (SELECT FROM core.products p WHERE p.id = i.product_id)', source);

    PERFORM core.refresh_all_inventory_views();
    RAISE NOTICE '003 restore: data from % put back (%)', source, summary;
END
$$;
