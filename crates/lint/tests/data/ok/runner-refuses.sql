-- mantis: no-transaction
BEGIN;
ALTER TABLE core.products ADD COLUMN note text;
COMMIT;
