//! Why seeding stopped. Nothing is loaded unless everything is.

use thiserror::Error;

/// A seeding failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SeedError {
    /// The core schema of migration 001 is not there.
    #[error("the core schema is missing: seed loads into a database at migration 001\n  hint: run `mantis up --to 1` first")]
    NoSchema,
    /// Migration 003 is already applied: seeded stock would have no movements.
    #[error("migration 003 is already applied: seed loads the data as it was before 003, so that 003 can be rehearsed on it\n  hint: seed a database at version 1 (`mantis up --to 1`), then run `mantis up`")]
    AfterMigration003,
    /// The catalogue already has data.
    #[error("core.products already holds {products} row(s): seed only loads into an empty catalogue\n  hint: use a fresh database (e.g. `mantis demo`) or empty the core tables first")]
    NotEmpty {
        /// Rows found in core.products.
        products: i64,
    },
    /// The requested scale is out of range.
    #[error("--products must be between 1 and {max} (got {got})")]
    Scale {
        /// What was asked.
        got: u64,
        /// The largest scale supported.
        max: u64,
    },
    /// --warehouses out of range.
    #[error("--warehouses must be between 1 and {max} (got {got})")]
    Warehouses {
        /// What was asked.
        got: usize,
        /// How many warehouses the catalogue defines.
        max: usize,
    },
    /// A database statement failed; the transaction was rolled back.
    #[error("seeding {during} failed (nothing was loaded)")]
    Database {
        /// What was being loaded.
        during: &'static str,
        /// The driver error.
        #[source]
        source: tokio_postgres::Error,
    },
}

impl SeedError {
    /// Maps a driver error to [`SeedError::Database`].
    pub fn copy(during: &'static str) -> impl Fn(tokio_postgres::Error) -> SeedError {
        move |source| SeedError::Database { during, source }
    }
}
