//! REFRESH MATERIALIZED VIEW without CONCURRENTLY on a view people read.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};

pub const RULE: Rule = Rule {
    id: "refresh-without-concurrently",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "REFRESH MATERIALIZED VIEW without CONCURRENTLY holds ACCESS EXCLUSIVE on the view for the whole rebuild: every reader waits.",
    safe: "REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on plain columns); only a view's first refresh after WITH NO DATA must be plain.",
    example: "REFRESH MATERIALIZED VIEW core.inventory_valuation;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let c = &stmt.c;
        if !c.is("RefreshMatViewStmt") || c.get("concurrent").as_bool() == Some(true) {
            continue;
        }
        // A view created in this file has no readers yet; its first refresh must be plain.
        let Some(view) = ctx.existing_target(stmt) else {
            continue;
        };
        ctx.report_lock(
            stmt,
            &view,
            format!(
                "refreshes {view} under ACCESS EXCLUSIVE: every reader waits for the rebuild; \
                 REFRESH MATERIALIZED VIEW CONCURRENTLY"
            ),
        );
    }
}
