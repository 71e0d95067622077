//! CREATE INDEX without CONCURRENTLY on an existing table.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};

pub const RULE: Rule = Rule {
    id: "index-without-concurrently",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "CREATE INDEX without CONCURRENTLY holds SHARE on the table for the whole build: every INSERT, UPDATE and DELETE waits.",
    safe: "CREATE INDEX CONCURRENTLY IF NOT EXISTS, alone in a `-- mantis: no-transaction` file (mantis drops an INVALID leftover before a retry).",
    example: "CREATE INDEX products_brand ON core.products (brand_id);",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let c = &stmt.c;
        if !c.is("IndexStmt") || c.get("concurrent").as_bool() == Some(true) {
            continue;
        }
        let Some(table) = ctx.existing_target(stmt) else {
            continue;
        };
        ctx.report_lock(
            stmt,
            &table,
            format!(
                "builds an index on {table} under SHARE: writers wait for the whole build; \
                 CREATE INDEX CONCURRENTLY in a `-- mantis: no-transaction` file"
            ),
        );
    }
}
