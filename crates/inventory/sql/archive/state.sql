-- What is archived: movements, the carried balances standing for them, and
-- the latest cut; and whether $1 (a date) lies in the future here.
SELECT (SELECT count(*) FROM core.stock_movement_archive) AS archived,
       (SELECT count(DISTINCT carried_by) FROM core.stock_movement_archive) AS carries,
       (SELECT max(created_at) FROM core.stock_movement_archive) AS newest,
       $1::date > current_date AS in_future
