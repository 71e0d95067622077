//! The SQL this crate runs, one file per query in `sql/`.

pub const POST_MOVEMENTS: &str = include_str!("../sql/post_movements.sql");
pub const INSERT_MOVEMENTS: &str = include_str!("../sql/insert_movements.sql");
pub const RESOLVE: &str = include_str!("../sql/resolve.sql");
pub const VALUATION: &str = include_str!("../sql/valuation.sql");
pub const SUMMARY: &str = include_str!("../sql/summary.sql");
pub const LOW_STOCK: &str = include_str!("../sql/low_stock.sql");
pub const HISTORY: &str = include_str!("../sql/history.sql");
pub const LEVELS: &str = include_str!("../sql/levels.sql");
pub const NAMES_KNOWN: &str = include_str!("../sql/names_known.sql");
pub const VIEWS_PRESENT: &str = include_str!("../sql/views_present.sql");
pub const VIEW_STATE: &str = include_str!("../sql/view_state.sql");
pub const REFRESH_LOCK: &str = include_str!("../sql/refresh_lock.sql");
pub const REFRESH_UNLOCK: &str = include_str!("../sql/refresh_unlock.sql");
pub const REFRESH_HOLDER: &str = include_str!("../sql/refresh_holder.sql");
pub const BRANDS: &str = include_str!("../sql/brands.sql");
pub const BRAND_ALIKE: &str = include_str!("../sql/brand_alike.sql");
pub const BRAND_ADD: &str = include_str!("../sql/brand_add.sql");
pub const BRAND_MERGE: &str = include_str!("../sql/brand_merge.sql");
pub const SUPPLIER_FIND: &str = include_str!("../sql/supplier_find.sql");
pub const CONTACT_VALID: &str = include_str!("../sql/contact_valid.sql");
pub const CONTACT_SET: &str = include_str!("../sql/contact_set.sql");
