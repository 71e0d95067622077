ALTER TABLE core.stock_on_hand ADD CONSTRAINT stock_qty_ok CHECK (qty >= 0); -- expect: constraint-without-not-valid
