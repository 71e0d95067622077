//! SQL of the data generator.

/// (core schema of 001 present, migration 003 applied).
pub const TARGET_STATE: &str = "SELECT to_regclass('core.products') IS NOT NULL \
     AND to_regclass('core.stock_on_hand') IS NOT NULL \
     AND to_regclass('core.supplier_products') IS NOT NULL AS has_core, \
     to_regclass('core.stock_movement') IS NOT NULL AS has_003";

/// Rows already in the catalogue.
pub const PRODUCT_COUNT: &str = "SELECT count(*) AS products FROM core.products";

/// Fresh statistics, so that the first queries on seeded data plan well.
pub const ANALYZE: &str = "ANALYZE core.users, core.suppliers, core.categories, core.warehouses, \
     core.products, core.supplier_products, core.stock_on_hand";

/// Primary, unique and foreign keys on or pointing to the given tables,
/// foreign keys first: (table, name, definition).
pub const KEYS: &str = "SELECT conrelid::regclass::text AS table_name, conname, \
            pg_get_constraintdef(oid) AS definition \
     FROM pg_constraint \
     WHERE contype IN ('p', 'u', 'f') \
       AND (conrelid = ANY($1::text[]::regclass[]) OR confrelid = ANY($1::text[]::regclass[])) \
     ORDER BY contype = 'f' DESC, conrelid::regclass::text, conname";
