ALTER TABLE core.stock_on_hand ADD COLUMN unit_cost numeric(10,2); -- expect: low-precision-money
CREATE TABLE core.price_list (sku text, list_price double precision); -- expect: low-precision-money
