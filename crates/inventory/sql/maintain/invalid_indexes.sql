-- Indexes a failed CREATE INDEX CONCURRENTLY (or REINDEX CONCURRENTLY) left
-- INVALID in core: they cost every write and serve no read.
SELECT format('%I.%I', n.nspname, i.relname) AS index,
       format('%I.%I', n.nspname, t.relname) AS "table",
       pg_get_indexdef(x.indexrelid) AS definition,
       pg_relation_size(x.indexrelid) AS bytes
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = i.relnamespace
WHERE n.nspname = 'core' AND NOT x.indisvalid
ORDER BY 1
