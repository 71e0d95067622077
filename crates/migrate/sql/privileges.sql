-- Every table, view, materialized view and sequence outside the system and
-- mantis's own schemas, with each privilege a role other than its owner holds
-- on it (role NULL: none). Read before and after a rehearsal's migrations.
SELECT c.oid::regclass::text AS relation,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS role,
       a.privilege_type AS privilege
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL aclexplode(c.relacl) a ON a.grantee <> c.relowner
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'mantis')
  AND n.nspname NOT LIKE 'pg\_%' AND n.nspname NOT LIKE 'mantis\_backup\_%'
ORDER BY 1, 2, 3
