-- The database's own validation of contact values (migration 003).
SELECT core.is_valid_email($1), core.is_valid_phone($2), core.is_valid_website($3)
