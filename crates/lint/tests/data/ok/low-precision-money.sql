ALTER TABLE core.stock_on_hand ADD COLUMN unit_cost numeric(18,6);
CREATE TABLE core.price_list (sku text, list_price numeric(18,6), total_value numeric(14,2));
