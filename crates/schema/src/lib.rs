//! The MantisNXT `core` schema as versioned migrations, embedded at compile time.
//!
//! Files live in `crates/schema/migrations/` and stay runnable by hand with
//! `psql -v ON_ERROR_STOP=1 -f FILE`.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod backups;
pub mod health;
mod sql;
pub mod summary;

use mantis_migrate::{MigrationSet, SourceError};

/// Every embedded file as `(file name, bytes)`, sorted by name.
pub const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Name shown for the embedded set in messages.
pub const ORIGIN: &str = "embedded:mantis-schema";

/// The embedded MantisNXT migration set.
///
/// # Errors
/// Only if an embedded file is malformed, which the crate's tests rule out.
pub fn migrations() -> Result<MigrationSet, SourceError> {
    MigrationSet::from_files(ORIGIN, FILES.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_set_is_valid_and_complete() {
        let set = migrations().expect("embedded migrations must be valid");
        let first = set.get(1).expect("migration 001 exists");
        assert_eq!(first.name, "core_baseline");
        assert!(first.down.is_some(), "001 must be reversible");
        assert!(first.verify.is_some(), "001 must have checks");
    }
}
