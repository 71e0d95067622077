-- Checks of migration 006: every column the books are made of refuses NaN.
-- Each query returns the rows that are wrong (none = pass); each DO block
-- raises when a rule does not hold. mantis runs them in one transaction that
-- it rolls back.

-- section: 1 Numbers: schema
-- check: the books' columns refuse NaN, and every row was checked
SELECT t.relname, t.conname, k.convalidated
FROM (VALUES
    ('stock_on_hand', 'stock_on_hand_numbers_are_numbers'),
    ('stock_movement', 'stock_movement_numbers_are_numbers'),
    ('stock_movement_archive', 'stock_movement_archive_numbers_are_numbers'),
    ('supplier_products', 'supplier_products_cost_is_a_number'),
    ('products', 'products_stock_levels_are_numbers')) AS t(relname, conname)
LEFT JOIN pg_constraint k ON k.conrelid = to_regclass('core.' || t.relname) AND k.conname = t.conname
WHERE k.convalidated IS DISTINCT FROM true;

-- section: 2 Numbers: rule tests
-- drift-check: skip
-- check: a NaN quantity or cost is refused, by a posting and by a direct change of stock
DO $$
DECLARE
    p uuid;
    w uuid;
    refused integer := 0;
BEGIN
    INSERT INTO core.products (sku, name) VALUES ('VERIFY-006', 'verify 006') RETURNING id INTO p;
    INSERT INTO core.warehouses (code, name) VALUES ('VERIFY-006', 'verify 006') RETURNING id INTO w;
    INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price)
    VALUES (p, w, 'RECEIPT', 5, 10);
    BEGIN
        INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price)
        VALUES (p, w, 'RECEIPT', 1, 'NaN');
    EXCEPTION WHEN check_violation THEN
        refused := refused + 1;
    END;
    BEGIN
        INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity, cost_price)
        VALUES (p, w, 'RECEIPT', 'NaN', 10);
    EXCEPTION WHEN check_violation THEN
        refused := refused + 1;
    END;
    BEGIN
        UPDATE core.stock_on_hand SET quantity = 'NaN' WHERE product_id = p AND warehouse_id = w;
    EXCEPTION WHEN check_violation THEN
        refused := refused + 1;
    END;
    BEGIN
        UPDATE core.products SET min_stock_level = 'NaN' WHERE id = p;
    EXCEPTION WHEN check_violation THEN
        refused := refused + 1;
    END;
    IF refused <> 4 THEN
        RAISE EXCEPTION 'a NaN cost, a NaN quantity, a NaN stock and a NaN level must each be refused: % of 4 were', refused;
    END IF;
    IF (SELECT quantity FROM core.stock_on_hand WHERE product_id = p AND warehouse_id = w) IS DISTINCT FROM 5::numeric THEN
        RAISE EXCEPTION 'the refused changes must leave the stock at 5';
    END IF;
END
$$;
