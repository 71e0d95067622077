-- The exact size of table $1 (with its indexes and TOAST): reading it takes
-- the lock a reader takes, so it runs under the lock timeout.
SELECT pg_total_relation_size($1::text::regclass) AS total_bytes,
       pg_relation_size($1::text::regclass) AS table_bytes,
       pg_indexes_size($1::text::regclass) AS index_bytes
