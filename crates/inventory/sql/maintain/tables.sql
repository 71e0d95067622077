-- The core tables and the archive, read from the catalog alone (no table is
-- locked): estimated rows and size (pages at the last vacuum or analyze),
-- dead rows (what vacuum has yet to reclaim: the bloat that matters to
-- writers) and when they were last vacuumed and analyzed. Exact sizes are
-- read per table (table_size.sql), each under the lock timeout.
SELECT format('%I.%I', n.nspname, c.relname) AS "table",
       greatest(c.reltuples, 0)::bigint AS rows_estimate,
       c.relpages::bigint * current_setting('block_size')::bigint AS table_bytes,
       coalesce(s.n_dead_tup, 0) AS dead_rows,
       greatest(s.last_vacuum, s.last_autovacuum) AS last_vacuum,
       greatest(s.last_analyze, s.last_autoanalyze) AS last_analyze
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE n.nspname = 'core' AND c.relkind IN ('r', 'p')
ORDER BY c.relpages DESC, 1
