//! The verify runner: a migration's `.verify.sql` as named checks.
//!
//! Convention (the one dbt uses for data tests): a check is a statement whose
//! result rows are the offending rows; zero rows means it passes. Comment
//! lines above a statement describe it:
//!
//! | line | meaning |
//! |---|---|
//! | `-- section: NAME` | the section of the checks that follow (until the next one) |
//! | `-- drift-check: skip` | under a section line: leave the section out of the drift check; under a check line: that check |
//! | `-- on-conflict: skip` | the check collides with routine work (e.g. it refreshes a view): a serialization failure, deadlock or lock timeout skips it, with the reason |
//! | `-- supersedes: 003 NAME` | this check replaces check NAME of migration 003: once both are applied, NAME is left out |
//! | `-- check: NAME` | the statement is a check: its rows are offending rows |
//! | `-- uses: a, b` | the check is a query plan check: EXPLAIN of the statement (sequential scans discouraged) must use these indexes or relations |
//! | `-- severity: warning` | a failure of this check is a warning, not a failure |
//! | `-- report: NAME` | the statement is not judged; its rows are shown (e.g. a summary) |
//!
//! The whole suite runs in one REPEATABLE READ transaction (one consistent
//! snapshot) that is always rolled back, and each check in its own savepoint:
//! a check that writes (a constraint or trigger test) changes nothing, and a
//! check that errors does not stop the others.

mod plan_check;
mod report;
mod run;
mod suite;

pub use report::{render_row, CheckResult, Outcome, VerifyReport};
pub use run::{run, VerifyOptions};
pub use suite::{Check, CheckKind, Severity, Suite, Superseded};
