CREATE FUNCTION core.post() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c numeric;
BEGIN
    SELECT unit_cost INTO c FROM core.stock_on_hand WHERE id = NEW.stock_id FOR UPDATE;
    UPDATE core.stock_on_hand SET unit_cost = (c + NEW.unit_cost) / 2 WHERE id = NEW.stock_id;
    RETURN NEW;
END $$;
DO $$
DECLARE c numeric;
BEGIN
    SELECT unit_cost INTO c FROM core.stock_on_hand WHERE id = '00000000-0000-0000-0000-000000000001';
    UPDATE core.stock_on_hand SET unit_cost = c + 1 WHERE id = '00000000-0000-0000-0000-000000000001';
END $$;
