//! `RAISE` as a top-level SQL statement.

use super::{Ctx, Rule};
use crate::file::Stmt;
use crate::finding::{Family, Severity};

pub const RULE: Rule = Rule {
    id: "raise-outside-plpgsql",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "RAISE exists only in PL/pgSQL: at top level it is a syntax error (42601), and under psql without ON_ERROR_STOP every later statement fails while the exit code stays 0.",
    safe: "Wrap it: DO $$ BEGIN RAISE NOTICE '…'; END $$; or drop it.",
    example: "RAISE NOTICE 'migration done';",
    check,
};

/// Whether the statement is a RAISE the parser refused.
pub fn is_raise(stmt: &Stmt) -> bool {
    stmt.c.error.is_some()
        && stmt
            .sql
            .trim_start()
            .get(..5)
            .is_some_and(|w| w.eq_ignore_ascii_case("raise"))
}

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        if is_raise(stmt) {
            ctx.report(
                stmt,
                None,
                "RAISE outside PL/pgSQL is a syntax error (42601); wrap it in \
                 DO $$ BEGIN … END $$ or remove it"
                    .to_string(),
            );
        }
    }
}
