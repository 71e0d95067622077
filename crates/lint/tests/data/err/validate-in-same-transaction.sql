ALTER TABLE core.stock_on_hand ADD CONSTRAINT stock_qty_ok CHECK (qty >= 0) NOT VALID;
ALTER TABLE core.stock_on_hand VALIDATE CONSTRAINT stock_qty_ok; -- expect: validate-in-same-transaction
