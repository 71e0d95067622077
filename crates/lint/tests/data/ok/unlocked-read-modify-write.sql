CREATE FUNCTION core.post() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c numeric;
BEGIN
    SELECT unit_cost INTO c FROM core.stock_on_hand WHERE id = NEW.stock_id FOR UPDATE;
    UPDATE core.stock_on_hand SET unit_cost = (c + NEW.unit_cost) / 2 WHERE id = NEW.stock_id;
    RETURN NEW;
END $$;
