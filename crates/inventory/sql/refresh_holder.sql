-- Who is refreshing the views now (holds the refresh lock).
SELECT a.pid, coalesce(nullif(a.application_name, ''), '?') AS application,
       coalesce(a.usename::text, '') AS usename
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = x'6d616e74'::bigint AND l.objid::bigint = x'69730002'::bigint
  AND l.objsubid = 2
LIMIT 1
