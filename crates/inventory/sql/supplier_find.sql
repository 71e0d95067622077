-- A supplier by exact name (case-insensitive) or id.
SELECT id FROM core.suppliers WHERE lower(name) = lower($1) OR id::text = $1
