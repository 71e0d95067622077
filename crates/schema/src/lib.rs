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
                                -c mantis.batch_last=ffffffff-ffff-ffff-ffff-ffffffffffff \
                                -c mantis.batch_first_ctid=(0,0) \
                                -c mantis.batch_last_ctid=(4294967295,65535)";

/// Name shown for the embedded set in messages.
pub const ORIGIN: &str = "embedded:mantis-schema";

/// The hazards `mantis lint` finds in the embedded migrations and that are
/// accepted, with their reasons (`[[lint.allow]]` entries): the SQL files
/// cannot carry them as comments, an up file's bytes being its checksum.
pub const LINT_ALLOW: &str = include_str!("../lint-allow.toml");

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
        let mut batched = 0;
        for m in set.migrations() {
            for (statement, spec) in m.up.statements.iter().zip(&m.up.batches) {
                let Some(spec) = spec else { continue };
                batched += 1;
                assert!(
                    ["id", "product_id"].contains(&spec.key.as_str()),
                    "{spec:?}: PSQL_OPTIONS spans uuid keys only"
                );
                assert!(statement
                    .sql
                    .contains("current_setting('mantis.batch_first')::uuid"));
                if statement.sql.contains("mantis.batch_first_ctid") {
                    assert!(PSQL_OPTIONS.contains("mantis.batch_first_ctid=(0,0)"));
                }
            }
        }
        assert!(batched >= 5, "003 and 004 batch their backfills");
    }
}
