-- Preflight facts about the connected database, one row.
-- $1: schemas the migrations alter (text[]); $2: longest tolerated transaction age, seconds;
-- $3, $4: the keys of the migration lock (another runner's locks are the
-- migration lock's business: this run waits for it there).
SELECT
    current_setting('server_version_num')::int AS server_version_num,
    has_database_privilege(current_database(), 'CREATE') AS can_create_schema,
    pg_is_in_recovery() AS in_recovery,
    current_setting('transaction_read_only') = 'on' AS read_only,
    (SELECT coalesce(array_agg(s ORDER BY s), '{}')
     FROM unnest($1::text[]) AS s
     WHERE to_regnamespace(s) IS NOT NULL AND NOT has_schema_privilege(s, 'CREATE')) AS schemas_without_create,
    (SELECT coalesce(array_agg(c.oid::regclass::text ORDER BY 1), '{}')
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY ($1::text[]) AND c.relkind IN ('r', 'p', 'm')
       AND NOT pg_has_role(current_user, c.relowner, 'USAGE')) AS tables_not_owned,
    (SELECT coalesce(array_agg(DISTINCT format('%s (%s) by pid %s, %s, %s, transaction open %s s',
                c.oid::regclass, l.mode, a.pid, coalesce(nullif(a.application_name, ''), 'no application name'),
                a.state, coalesce(extract(epoch FROM now() - a.xact_start)::int, 0))), '{}')
     FROM pg_locks l
     JOIN pg_class c ON c.oid = l.relation
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.pid <> pg_backend_pid() AND l.granted AND a.backend_type = 'client backend'
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND n.nspname = ANY ($1::text[])
       AND NOT EXISTS (SELECT FROM pg_locks m
                       WHERE m.pid = l.pid AND m.locktype = 'advisory' AND m.granted
                         AND m.classid = $3::int::oid AND m.objid = $4::int::oid AND m.objsubid = 2)) AS locks_held,
    (SELECT coalesce(array_agg(format('pid %s, %s, %s, open %s s', a.pid,
                coalesce(nullif(a.application_name, ''), 'no application name'), a.state,
                extract(epoch FROM now() - a.xact_start)::int) ORDER BY a.xact_start), '{}')
     FROM pg_stat_activity a
     WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
       AND a.xact_start < now() - $2::int * interval '1 second') AS long_transactions,
    (SELECT coalesce(array_agg(r.role ORDER BY r.role), '{}')
     FROM (SELECT format('%s (%s on %s of them)',
                         CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                         string_agg(DISTINCT a.privilege_type, ', ' ORDER BY a.privilege_type),
                         count(DISTINCT c.oid)) AS role
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           CROSS JOIN LATERAL aclexplode(c.relacl) a
           WHERE n.nspname = ANY ($1::text[]) AND c.relkind IN ('r', 'p', 'm')
             AND a.grantee <> c.relowner
           GROUP BY a.grantee) r) AS roles_with_privileges
