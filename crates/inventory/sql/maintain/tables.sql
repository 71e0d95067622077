-- The core tables and the archive, with their size, estimated rows, dead
-- rows (what vacuum has yet to reclaim: the bloat that matters to writers)
-- and when they were last vacuumed and analyzed.
SELECT format('%I.%I', n.nspname, c.relname) AS "table",
       greatest(c.reltuples, 0)::bigint AS rows_estimate,
       pg_total_relation_size(c.oid) AS total_bytes,
       pg_relation_size(c.oid) AS table_bytes,
       pg_indexes_size(c.oid) AS index_bytes,
       coalesce(s.n_dead_tup, 0) AS dead_rows,
       greatest(s.last_vacuum, s.last_autovacuum) AS last_vacuum,
       greatest(s.last_analyze, s.last_autoanalyze) AS last_analyze
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE n.nspname = 'core' AND c.relkind IN ('r', 'p')
ORDER BY pg_total_relation_size(c.oid) DESC, 1
