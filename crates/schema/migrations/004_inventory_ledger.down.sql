-- Reverts migration 004 without losing data (one transaction): the ledger's
-- rules go, 003's posting trigger comes back.
--
-- The columns 004 added hold data (each movement's seq, idempotency key and
-- reversed movement; each warehouse's negative-stock policy). Before they are
-- dropped they are copied, with each movement's value_delta (003's column,
-- which stays), into a new schema
-- mantis_backup_004_<UTC time>, listed by `mantis backups`. Applying 004 again
-- puts them back from the newest such set, for every movement still there;
-- movements posted while 004 was rolled back get their value as usual.
-- By hand: psql -v ON_ERROR_STOP=1 -1 -f THIS_FILE

DO $$
DECLARE
    target  text := 'mantis_backup_004_' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYYMMDD"_"HH24MISS');
    suffix  int := 1;
    base    text;
    counts  jsonb := '{}'::jsonb;
    n       bigint;
BEGIN
    base := target;
    WHILE to_regnamespace(target) IS NOT NULL LOOP
        suffix := suffix + 1;
        target := base || '_' || suffix;
    END LOOP;
    EXECUTE format('CREATE SCHEMA %I', target);
    -- After an interrupted up, some columns may not be there yet.
    IF EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'core.stock_movement'::regclass
               AND attname = 'reverses_id' AND NOT attisdropped) THEN
        EXECUTE format('CREATE TABLE %I.stock_movement_ledger AS
                        SELECT id, value_delta, seq, idempotency_key, reverses_id FROM core.stock_movement', target);
        GET DIAGNOSTICS n = ROW_COUNT;
        counts := counts || jsonb_build_object('stock_movement_ledger', n);
    END IF;
    IF EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'core.warehouses'::regclass
               AND attname = 'allow_negative_stock' AND NOT attisdropped) THEN
        EXECUTE format('CREATE TABLE %I.warehouse_policy AS
                        SELECT id, allow_negative_stock FROM core.warehouses', target);
        GET DIAGNOSTICS n = ROW_COUNT;
        counts := counts || jsonb_build_object('warehouse_policy', n);
    END IF;
    EXECUTE format('COMMENT ON SCHEMA %I IS %L', target, jsonb_build_object(
        'mantis_backup', 1,
        'version', 4,
        'migration', 'inventory_ledger',
        'created_at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'created_by', current_user,
        'rows', counts)::text);
    RAISE NOTICE '004 down: data saved in schema % (%)', target, counts;
END
$$;

DROP TRIGGER IF EXISTS trg_stock_on_hand_capture ON core.stock_on_hand;
DROP TRIGGER IF EXISTS trg_stock_movement_transfer_balanced ON core.stock_movement;
DROP TRIGGER IF EXISTS trg_stock_movement_no_truncate ON core.stock_movement;
DROP TRIGGER IF EXISTS trg_stock_movement_append_only ON core.stock_movement;
DROP TRIGGER IF EXISTS stock_movement_update_cost ON core.stock_movement;
CREATE TRIGGER stock_movement_update_cost
    BEFORE INSERT ON core.stock_movement
    FOR EACH ROW EXECUTE FUNCTION core.update_stock_cost_on_movement();

DROP FUNCTION IF EXISTS core.capture_stock_change();
DROP FUNCTION IF EXISTS core.check_transfer_balanced();
DROP FUNCTION IF EXISTS core.stock_movement_append_only();
DROP FUNCTION IF EXISTS core.post_stock_movement();
DROP FUNCTION IF EXISTS core.movement_direction_error(core.movement_type, numeric);
DROP FUNCTION IF EXISTS core.format_quantity(numeric);

ALTER TABLE core.stock_movement
    DROP COLUMN IF EXISTS reverses_id,
    DROP COLUMN IF EXISTS idempotency_key,
    DROP COLUMN IF EXISTS seq;
DROP SEQUENCE IF EXISTS core.stock_movement_seq;
ALTER TABLE core.warehouses DROP COLUMN IF EXISTS allow_negative_stock;
