//! A statement PostgreSQL's parser refuses.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};

pub const RULE: Rule = Rule {
    id: "syntax-error",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "PostgreSQL's parser refuses the statement (42601): the migration fails there.",
    safe:
        "Fix the statement; run it through `psql -v ON_ERROR_STOP=1` to see the server's message.",
    example: "ALTER TABLE core.products ADD COLUMN brand_id uuid REFERENCES;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let Some(error) = &stmt.c.error else { continue };
        if super::raise_outside_plpgsql::is_raise(stmt) {
            continue;
        }
        ctx.report(
            stmt,
            None,
            format!("PostgreSQL's parser refuses this statement: {error}"),
        );
    }
}
