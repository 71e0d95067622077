BEGIN; -- expect: runner-refuses
ALTER TABLE core.products ADD COLUMN note text;
COMMIT;
