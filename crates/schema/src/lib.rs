//! The MantisNXT `core` schema as versioned migrations, embedded at compile time.
//!
//! Files live in `crates/schema/migrations/` and stay runnable by hand with
//! `psql -v ON_ERROR_STOP=1 -f FILE`, with [`PSQL_OPTIONS`] in `PGOPTIONS`.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod backups;
pub mod health;
mod sql;
pub mod summary;

use mantis_migrate::{MigrationSet, SourceError};

/// Every embedded file as `(file name, bytes)`, sorted by name.
pub const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// `PGOPTIONS` for running the files by hand with psql: every batched
/// statement (`-- mantis: batch`, keyed on a uuid) then covers its whole table
/// in one go — with every lock held until the statement ends, which is what
/// mantis's batches avoid on a busy database.
pub const PSQL_OPTIONS: &str = "-c mantis.batch_first=00000000-0000-0000-0000-000000000000 \
                                -c mantis.batch_last=ffffffff-ffff-ffff-ffff-ffffffffffff";

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

    #[test]
    fn every_batched_statement_walks_a_uuid_key_that_psql_options_cover() {
        let set = migrations().expect("embedded migrations must be valid");
        let batched: Vec<_> = set
            .migrations()
            .iter()
            .flat_map(|m| m.up.batches.iter().flatten())
            .collect();
        assert!(batched.len() >= 5, "003 and 004 batch their backfills");
        for spec in batched {
            assert_eq!(spec.key, "id", "{spec:?}: PSQL_OPTIONS spans uuid ids only");
        }
        for statement in set.migrations().iter().flat_map(|m| &m.up.statements) {
            if statement.sql.contains("mantis.batch_first") {
                assert!(statement.sql.contains("::uuid"), "{}", statement.sql);
            }
        }
    }
}
