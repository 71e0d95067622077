//! Every SQL statement the engine sends, in one place. Values are bound as
//! parameters, but for a batch's settings and progress mark, which travel in
//! one simple-query message with the batch's statement (so that no round
//! trip happens while the batch holds its row locks): there they are
//! literals, quoted by `quote_literal` (keys the engine read from the table,
//! and numbers).

use crate::ident::quote_literal;

/// Creates the `mantis` schema and its tables if missing.
pub(crate) const CREATE_HISTORY: &str = include_str!("../sql/history.sql");

/// Whether the history table exists (without creating anything).
pub(crate) const HISTORY_EXISTS: &str =
    "SELECT to_regclass('mantis.schema_migrations') IS NOT NULL \
            AND to_regclass('mantis.migration_progress') IS NOT NULL \
            AND to_regclass('mantis.migration_events') IS NOT NULL";

/// Every history table exists, including ones added after the first release
/// (so `ensure` adds what an older history lacks).
pub(crate) const HISTORY_COMPLETE: &str =
    "SELECT to_regclass('mantis.schema_migrations') IS NOT NULL \
            AND to_regclass('mantis.migration_progress') IS NOT NULL \
            AND to_regclass('mantis.migration_events') IS NOT NULL \
            AND to_regclass('mantis.backups') IS NOT NULL \
            AND EXISTS (SELECT FROM pg_attribute \
                        WHERE attrelid = to_regclass('mantis.migration_progress') \
                          AND attname = 'batch_page_end' AND NOT attisdropped)";

/// Applied migrations, oldest first.
pub(crate) const SELECT_APPLIED: &str = "SELECT version, name, checksum, applied_at, applied_by, \
            duration_ms, tool_version, mode, backup \
     FROM mantis.schema_migrations ORDER BY version";

/// A migration left half-way, if any.
pub(crate) const SELECT_PROGRESS: &str = "SELECT version, name, checksum, direction, \
            statements_total, statements_done, started_at, started_by, last_error \
     FROM mantis.migration_progress ORDER BY version LIMIT 1";

/// Records an applied migration.
pub(crate) const INSERT_APPLIED: &str = "INSERT INTO mantis.schema_migrations \
            (version, name, checksum, duration_ms, tool_version, mode) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// Forgets a reverted migration.
pub(crate) const DELETE_APPLIED: &str = "DELETE FROM mantis.schema_migrations WHERE version = $1";

/// Appends to the event log.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO mantis.migration_events \
            (version, name, action, checksum, mode, duration_ms, tool_version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Starts (or restarts) the progress marker of a no-transaction migration.
pub(crate) const UPSERT_PROGRESS: &str = "INSERT INTO mantis.migration_progress \
            (version, name, checksum, direction, statements_total, statements_done) \
     VALUES ($1, $2, $3, $4, $5, 0) \
     ON CONFLICT (version) DO UPDATE SET last_error = NULL, updated_at = clock_timestamp()";

/// Moves the marker past a completed statement.
pub(crate) const ADVANCE_PROGRESS: &str = "UPDATE mantis.migration_progress \
     SET statements_done = $2, last_error = NULL, batch_after = NULL, batch_rows = 0, \
         batch_page = NULL, batch_page_end = NULL, \
         updated_at = clock_timestamp() \
     WHERE version = $1";

/// Keeps the error that stopped a no-transaction migration.
pub(crate) const FAIL_PROGRESS: &str = "UPDATE mantis.migration_progress \
     SET last_error = $2, updated_at = clock_timestamp() WHERE version = $1";

/// Removes the marker once the migration is recorded.
pub(crate) const DELETE_PROGRESS: &str = "DELETE FROM mantis.migration_progress WHERE version = $1";

/// Tries the session-level advisory lock (two int4 keys).
pub(crate) const TRY_LOCK: &str = "SELECT pg_try_advisory_lock($1, $2) AS got";

/// Releases it.
pub(crate) const UNLOCK: &str = "SELECT pg_advisory_unlock($1, $2)";

/// Who holds the advisory lock.
pub(crate) const LOCK_HOLDER: &str = "SELECT a.pid, coalesce(a.application_name, '') AS application, \
            coalesce(a.usename::text, '') AS usename, coalesce(a.client_addr::text, 'local') AS client, \
            (extract(epoch FROM now() - coalesce(a.xact_start, a.backend_start)) * 1000)::bigint AS running_ms \
     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
     WHERE l.locktype = 'advisory' AND l.granted AND l.database = \
           (SELECT oid FROM pg_database WHERE datname = current_database()) \
       AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 2 \
     LIMIT 1";

/// Whether this backend holds the lock, and its pid.
pub(crate) const LOCK_HELD: &str = "SELECT pg_backend_pid() AS pid, EXISTS ( \
       SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
          AND pid = pg_backend_pid() AND classid::bigint = $1 \
          AND objid::bigint = $2 AND objsubid = 2) AS held";

/// This connection's server process.
pub(crate) const BACKEND_PID: &str = "SELECT pg_backend_pid() AS pid";

/// The comment of a database, if it exists (NULL comment = exists, no comment).
/// The server's version as a number (e.g. 150004).
pub(crate) const SERVER_VERSION_NUM: &str =
    "SELECT current_setting('server_version_num')::int AS version_num";

/// Ends every other session on database $1 (before a DROP on PostgreSQL 12).
pub(crate) const TERMINATE_DATABASE_SESSIONS: &str =
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
     WHERE datname = $1 AND pid <> pg_backend_pid()";

pub(crate) const DATABASE_COMMENT: &str =
    "SELECT coalesce(shobj_description(oid, 'pg_database'), '') AS comment \
     FROM pg_database WHERE datname = $1";

/// Sets a session-level setting (lock_timeout, statement_timeout, backend_flush_after).
pub(crate) const SET_SESSION_SETTING: &str = "SELECT set_config($1, $2, false)";

/// Sets the session's `wal_compression` to $1 when the server's is off.
pub(crate) const COMPRESS_WAL_IF_OFF: &str =
    "SELECT CASE WHEN current_setting('wal_compression') = 'off' \
                 THEN set_config('wal_compression', $1, false) END AS set";

/// Opens the verify transaction: one snapshot for every check, never committed.
pub const VERIFY_BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ";

/// An INVALID index named $1 on table $2 (as written in the statement).
pub const INVALID_INDEX: &str = "SELECT format('%I.%I', n.nspname, c.relname) \
     FROM pg_index i \
     JOIN pg_class c ON c.oid = i.indexrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relname = $1 AND i.indrelid = to_regclass($2) AND NOT i.indisvalid";

/// Sets a setting for the rest of the current transaction.
pub const SET_LOCAL_SETTING: &str = "SELECT set_config($1, $2, true)";

/// Records a verified backup.
pub const RECORD_BACKUP: &str = "INSERT INTO mantis.backups \
     (file, size_bytes, sha256, toc_entries, server_version, pg_dump, schema_version, duration_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Whether a database exists.
pub const DATABASE_EXISTS: &str = "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)";

/// Preflight facts (see sql/preflight.sql).
pub const PREFLIGHT: &str = include_str!("../sql/preflight.sql");

/// The table locks a backend holds, on the given tables: (table, mode).
pub(crate) const REHEARSE_LOCKS: &str =
    "SELECT l.relation::regclass::text AS relation, l.mode FROM pg_locks l \
     WHERE l.pid = $1 AND l.locktype = 'relation' AND l.granted AND l.relation = ANY($2::oid[])";

/// Where the server's write-ahead log stands, in bytes from its start (NULL
/// on a standby, where no WAL is written), how far the furthest standby is
/// behind, and the full-page images the server has counted (`pg_stat_wal`,
/// PostgreSQL 14 and later; NULL before).
pub(crate) fn rehearse_wal(server_version_num: i32) -> String {
    let fpi = if server_version_num >= 140_000 {
        "(SELECT wal_fpi FROM pg_stat_wal)::bigint"
    } else {
        "NULL::bigint"
    };
    format!(
        "SELECT CASE WHEN pg_is_in_recovery() THEN NULL \
                ELSE (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint END AS lsn, \
           (SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))::bigint \
            FROM pg_stat_replication WHERE NOT pg_is_in_recovery() \
              AND state IN ('streaming', 'catchup')) AS standby_behind, \
           {fpi} AS fpi"
    )
}

/// The rehearsal's control probe: a commit that writes WAL (so it waits
/// for its flush, as every writer's commit does) and touches no table.
pub(crate) const REHEARSE_CONTROL: &str =
    "SELECT pg_logical_emit_message(true, 'mantis-rehearse', '')";

/// Every relation outside the system schemas with its grants to roles other
/// than its owner (the rehearsal's roles report).
pub(crate) const PRIVILEGES: &str = include_str!("../sql/privileges.sql");

/// Existing user tables, largest first: (oid, name, estimated rows).
pub(crate) const REHEARSE_TABLES: &str =
    "SELECT c.oid, c.oid::regclass::text AS name, c.reltuples::bigint AS estimate \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') \
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'mantis') \
       AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT LIKE 'mantis\\_backup\\_%' \
     ORDER BY c.reltuples DESC, 2";

/// The column a writer probe updates: the single-column primary key, else the first column.
pub(crate) const REHEARSE_WRITER_COLUMN: &str =
    "SELECT a.attname::text AS column_name, format_type(a.atttypid, a.atttypmod) AS key_type \
     FROM pg_index i \
     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
     WHERE i.indrelid = $1::text::regclass AND i.indisprimary AND i.indnatts = 1 \
     UNION ALL \
     SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) \
     FROM pg_attribute a WHERE a.attrelid = $1::text::regclass AND a.attnum = 1 \
     LIMIT 1";

/// An existing relation by name, as `kind name` (an index with its definition).
pub(crate) const FOOTPRINT_RELATION: &str = "\
    SELECT CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'p' THEN 'table ' WHEN 'v' THEN 'view ' \
             WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence ' \
             WHEN 'i' THEN 'index ' WHEN 'I' THEN 'index ' ELSE 'relation ' END \
           || c.oid::regclass::text \
           || CASE WHEN c.relkind IN ('i', 'I') THEN ' (' || pg_get_indexdef(c.oid) || ')' ELSE '' END \
    FROM pg_class c WHERE c.oid = to_regclass($1)";

/// An existing table's name as a safely quoted regclass.
pub(crate) const FOOTPRINT_REGCLASS: &str =
    "SELECT c::text FROM (SELECT to_regclass($1) AS c) s WHERE c IS NOT NULL";

/// The type of an existing column of table $1 named $2.
pub(crate) const FOOTPRINT_COLUMN: &str = "\
    SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
    WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped";

/// The definition of constraint $2 on table $1.
pub(crate) const FOOTPRINT_CONSTRAINT: &str = "\
    SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k \
    WHERE k.conrelid = to_regclass($1) AND k.conname = $2";

/// Constraint $2 of table $1 when it is a plain foreign key (no rules, MATCH
/// SIMPLE, not deferrable) on the columns $4 (in order) referencing table $3
/// on the columns $5 (in order; empty: any, i.e. its primary key).
pub(crate) const FOOTPRINT_PLAIN_FOREIGN_KEY: &str = "\
    SELECT k.conname::text FROM pg_constraint k \
    WHERE k.conrelid = to_regclass($1) AND k.conname = $2 AND k.contype = 'f' \
      AND k.confrelid = to_regclass($3) \
      AND k.confupdtype = 'a' AND k.confdeltype = 'a' AND k.confmatchtype = 's' AND NOT k.condeferrable \
      AND (SELECT array_agg(a.attname::text ORDER BY u.n) \
           FROM unnest(k.conkey) WITH ORDINALITY u(attnum, n) \
           JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) = $4::text[] \
      AND (cardinality($5::text[]) = 0 OR \
           (SELECT array_agg(a.attname::text ORDER BY u.n) \
            FROM unnest(k.confkey) WITH ORDINALITY u(attnum, n) \
            JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum) = $5::text[])";

/// Foreign keys of table $1 on exactly the columns $2 (any order).
pub(crate) const FOOTPRINT_FOREIGN_KEYS_ON: &str = "\
    SELECT k.conname::text FROM pg_constraint k \
    WHERE k.conrelid = to_regclass($1) AND k.contype = 'f' \
      AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text) FROM pg_attribute a \
           WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)) \
        = (SELECT array_agg(c ORDER BY c) FROM unnest($2::text[]) c) \
    ORDER BY 1";

/// The definition of trigger $2 on table $1.
pub(crate) const FOOTPRINT_TRIGGER: &str = "\
    SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t \
    WHERE t.tgrelid = to_regclass($1) AND t.tgname = $2 AND NOT t.tgisinternal";

/// Whether the session can write: a standby is in recovery; a read-only
/// session has transaction_read_only on.
pub(crate) const WRITABLE: &str = "SELECT pg_is_in_recovery() AS in_recovery, \
    current_setting('transaction_read_only') = 'on' AS read_only";

/// The triggers (not internal ones: foreign keys), rules (not a view's) and
/// row-level security policies on table $1, with their definitions.
pub(crate) const USER_OBJECTS_ON: &str = "\
    SELECT 'trigger' AS kind, t.tgname::text AS name, t.tgrelid::regclass::text AS table_name, \
           pg_get_triggerdef(t.oid) AS definition \
    FROM pg_trigger t WHERE t.tgrelid = to_regclass($1) AND NOT t.tgisinternal \
    UNION ALL \
    SELECT 'rule', r.rulename::text, r.ev_class::regclass::text, pg_get_ruledef(r.oid) \
    FROM pg_rewrite r WHERE r.ev_class = to_regclass($1) AND r.rulename <> '_RETURN' \
    UNION ALL \
    SELECT 'policy', p.polname::text, p.polrelid::regclass::text, \
           'POLICY ' || quote_ident(p.polname) || ' (row-level security ' \
           || CASE WHEN c.relrowsecurity THEN 'enabled' ELSE 'not enabled' END || ')' \
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE p.polrelid = to_regclass($1) \
    ORDER BY 1, 2";

/// A function named $2 in schema $1 (empty: the search path).
pub(crate) const FOOTPRINT_FUNCTION: &str = "\
    SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
    WHERE p.proname = $2 AND (n.nspname = $1 OR ($1 = '' AND n.nspname = ANY (current_schemas(false)))) \
    ORDER BY 1 LIMIT 1";

/// A type's name as the catalog writes it, or NULL (raises on a syntax
/// error before PostgreSQL 16).
pub(crate) const FOOTPRINT_REGTYPE: &str = "SELECT to_regtype($1)::text";

/// The function of exactly this signature, `name(type, …)`.
pub(crate) const FOOTPRINT_PROCEDURE: &str =
    "SELECT p::text FROM (SELECT to_regprocedure($1) AS p) s WHERE p IS NOT NULL";

/// A type by name.
pub(crate) const FOOTPRINT_TYPE: &str =
    "SELECT t::text FROM (SELECT to_regtype($1) AS t) s WHERE t IS NOT NULL";

/// The sessions a backend's lock request waits for (holders, and requests
/// queued ahead of it), as `pg_stat_activity` shows them.
pub(crate) const BLOCKERS: &str = "SELECT a.pid, coalesce(a.application_name, '') AS application, \
            coalesce(a.usename::text, '') AS usename, coalesce(a.state, '') AS state, \
            (extract(epoch FROM now() - coalesce(a.xact_start, a.backend_start)) * 1000)::bigint AS transaction_ms, \
            left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 120) AS query \
     FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids($1)) ORDER BY a.pid";

/// Where an interrupted batched statement stopped.
pub(crate) const SELECT_BATCH_PROGRESS: &str =
    "SELECT batch_after, batch_rows, batch_page, batch_page_end \
     FROM mantis.migration_progress WHERE version = $1";

/// Records a committed batch of a key walk (in the batch's own transaction):
/// the last key done, and the rows.
pub(crate) fn advance_batch(version: i64, last: &str, rows: i64) -> String {
    format!(
        "UPDATE mantis.migration_progress \
         SET batch_after = {}, batch_rows = batch_rows + {rows}, updated_at = clock_timestamp() \
         WHERE version = {version}",
        quote_literal(last)
    )
}

/// Records a committed batch of a page walk (in the batch's own transaction):
/// the next page and the page the walk ends before.
pub(crate) fn advance_pages(version: i64, next: i64, end: i64, rows: i64) -> String {
    format!(
        "UPDATE mantis.migration_progress \
         SET batch_page = {next}, batch_page_end = {end}, batch_rows = batch_rows + {rows}, \
             updated_at = clock_timestamp() \
         WHERE version = {version}"
    )
}

/// The page walk is over (at page `$2`): the key walk counts its rows from zero.
pub(crate) const PAGES_DONE: &str = "UPDATE mantis.migration_progress \
     SET batch_page = $2, batch_page_end = $2, batch_rows = 0, updated_at = clock_timestamp() \
     WHERE version = $1";

/// Sent with an explicit block's BEGIN in a no-transaction file: the block's
/// locks are released when its commit is written, not after the WAL flush.
pub(crate) const ASYNC_COMMIT: &str = "SET LOCAL synchronous_commit = off";

/// One batch's settings, local to its transaction: its lock_timeout, key
/// range (and page range, as ctids), statement_timeout (its lock budget);
/// and an asynchronous commit, so that its row locks are not held while its
/// WAL is flushed (the batch and its progress mark commit together: a crash
/// that loses the commit loses both, and the run resumes at that batch);
/// and no JIT compilation: the planner estimates a batch's key range no
/// finer than a histogram bucket of its table (thousands of rows at a
/// million), which often costs it past `jit_above_cost`, and compiling takes
/// 20 ms or more: half a batch's time, spent again in every batch.
/// Literals, not parameters: it goes with BEGIN in one message.
pub(crate) fn batch_settings(
    lock_timeout: std::time::Duration,
    hold: std::time::Duration,
    (first, last): (&str, &str),
    pages: Option<&(String, String)>,
) -> String {
    let set =
        |name: &str, value: &str| format!("set_config('{name}', {}, true)", quote_literal(value));
    let mut settings = vec![
        set("lock_timeout", &format!("{}ms", lock_timeout.as_millis())),
        set("statement_timeout", &format!("{}ms", hold.as_millis())),
        set("synchronous_commit", "off"),
        set("jit", "off"),
        set("mantis.batch_first", first),
        set("mantis.batch_last", last),
    ];
    if let Some((first, last)) = pages {
        settings.push(set("mantis.batch_first_ctid", first));
        settings.push(set("mantis.batch_last_ctid", last));
    }
    format!("SELECT {}", settings.join(", "))
}

/// The pages a table has now.
pub(crate) const TABLE_PAGES: &str = "SELECT pg_relation_size(to_regclass($1)) \
            / current_setting('block_size')::bigint AS pages";

/// The type of a batched statement's key column.
pub(crate) const BATCH_KEY_TYPE: &str = "SELECT format_type(a.atttypid, a.atttypmod) AS key_type \
     FROM pg_attribute a \
     WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped";

/// The standbys streaming from this server: how many bytes of WAL each has
/// still to replay (NULL for a role without pg_monitor) and its replay_lag.
pub(crate) const STANDBYS: &str = "\
    SELECT coalesce(nullif(application_name, ''), 'pid ' || pid) \
             || coalesce(' (' || host(client_addr) || ')', '') AS standby, \
           CASE WHEN NOT pg_is_in_recovery() \
                THEN pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint END AS behind_bytes, \
           (extract(epoch FROM replay_lag) * 1000)::bigint AS lag_ms \
    FROM pg_stat_replication WHERE state IN ('streaming', 'catchup') ORDER BY 1";

/// The replication slots, and the WAL each keeps (from its restart_lsn).
pub(crate) const SLOTS: &str = "\
    SELECT slot_name || ' ' || slot_type AS slot, active, \
           CASE WHEN restart_lsn IS NOT NULL AND NOT pg_is_in_recovery() \
                THEN pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint END AS retained \
    FROM pg_replication_slots ORDER BY slot_name";

/// A commit that writes a transaction id and nothing else: it waits for no
/// lock, only for its WAL to be flushed (and the CPU).
pub(crate) const CONTROL_COMMIT: &str = "BEGIN; SELECT txid_current(); COMMIT";

/// What every other active client session is waiting for now (pid,
/// application, `type:event`): tells a probe's lock wait from a commit
/// stall on WAL or I/O.
pub(crate) const REHEARSE_WAITS: &str =
    "SELECT pid, coalesce(application_name, '') AS application, \
            wait_event_type || ':' || wait_event AS event \
     FROM pg_stat_activity \
     WHERE pid <> $1 AND backend_type = 'client backend' AND state = 'active' \
       AND wait_event_type IS NOT NULL AND wait_event_type <> 'Client'";
