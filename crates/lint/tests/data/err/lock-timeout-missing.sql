ALTER TABLE core.products ADD COLUMN note text; -- expect: lock-timeout-missing
