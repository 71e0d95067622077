ALTER TABLE core.products ADD COLUMN note text;
ALTER TABLE core.stock_on_hand ADD COLUMN note text; -- expect: many-tables-locked
