-- Reverts migration 005 (one transaction): posting goes back to 004's
-- row-by-row trigger, and the archive goes.
--
-- Nothing is lost: while any movement is archived, this refuses before
-- changing anything (put them back with `mantis ledger unarchive`). 004's
-- functions were not changed; its triggers get back their 004 form.
-- By hand: psql -v ON_ERROR_STOP=1 -1 -f THIS_FILE

DO $$
DECLARE
    archived bigint;
BEGIN
    IF to_regclass('core.stock_movement_archive') IS NOT NULL THEN
        SELECT count(*) INTO archived FROM core.stock_movement_archive;
        IF archived > 0 THEN
            RAISE EXCEPTION '005 down: % movement(s) are in core.stock_movement_archive; dropping it would lose them', archived
                USING ERRCODE = 'object_in_use',
                      HINT = 'put them back first: mantis ledger unarchive';
        END IF;
    END IF;
END
$$;

DROP TRIGGER IF EXISTS trg_stock_movement_archived ON core.stock_movement;
DROP TRIGGER IF EXISTS trg_stock_movement_no_update ON core.stock_movement;
DROP TRIGGER IF EXISTS trg_stock_movement_append_only ON core.stock_movement;
CREATE TRIGGER trg_stock_movement_append_only
    BEFORE UPDATE OR DELETE ON core.stock_movement
    FOR EACH ROW EXECUTE FUNCTION core.stock_movement_append_only();

DROP TRIGGER IF EXISTS trg_stock_movement_transfer_balanced ON core.stock_movement;
CREATE CONSTRAINT TRIGGER trg_stock_movement_transfer_balanced
    AFTER INSERT ON core.stock_movement
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.movement_type = 'TRANSFER')
    EXECUTE FUNCTION core.check_transfer_balanced();

DROP TRIGGER IF EXISTS stock_movement_archived_key ON core.stock_movement;
DROP TRIGGER IF EXISTS stock_movement_update_cost ON core.stock_movement;
CREATE TRIGGER stock_movement_update_cost
    BEFORE INSERT ON core.stock_movement
    FOR EACH ROW EXECUTE FUNCTION core.post_stock_movement();

DROP FUNCTION IF EXISTS core.ledger_unarchive_batch(uuid, uuid);
DROP FUNCTION IF EXISTS core.ledger_archive_batch(timestamptz, uuid, uuid);
DROP FUNCTION IF EXISTS core.post_movements(uuid[], text[], text[], text[], numeric[], numeric[], text[], uuid[], text[], text[], text[]);
DROP FUNCTION IF EXISTS core.ledger_apply(uuid[], uuid[], uuid[], core.movement_type[], numeric[], numeric[], core.reference_type[], uuid[], text[]);
DROP TABLE IF EXISTS core.stock_movement_archive;
DROP FUNCTION IF EXISTS core.stock_movement_archive_guard();
DROP FUNCTION IF EXISTS core.check_movements_archived();
DROP FUNCTION IF EXISTS core.stock_movement_columns(boolean);
DROP FUNCTION IF EXISTS core.skip_archived_key();
