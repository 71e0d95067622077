//! SQL of the schema crate's helpers (the migrations themselves are .sql files).

/// Backup sets saved by down scripts: schemas whose comment is mantis JSON.
pub const BACKUP_SETS: &str =
    "SELECT n.nspname, obj_description(n.oid, 'pg_namespace') AS comment \
     FROM pg_namespace n \
     WHERE n.nspname LIKE 'mantis\\_backup\\_%' \
     ORDER BY n.nspname";

/// Names the backup a restore script reads (transaction-local).
pub const SET_RESTORE_FROM: &str = "SELECT set_config('mantis.restore_from', $1, true)";

/// The state of the MantisNXT data after migration 003 (see summary.rs).
pub const SUMMARY: &str = include_str!("../sql/summary.sql");

/// Whether 003's tables exist: (core.brand, core.stock_movement).
pub const HEALTH_TABLES: &str = "SELECT to_regclass('core.brand') IS NOT NULL AS brand_table, \
            to_regclass('core.stock_movement') IS NOT NULL AS movement_table";

/// The seed's quick health check (needs 003's tables).
pub const HEALTH: &str = include_str!("../sql/health.sql");
