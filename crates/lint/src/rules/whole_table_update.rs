//! An UPDATE or DELETE of every row of an existing table in one statement.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};

pub const RULE: Rule = Rule {
    id: "whole-table-update",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "An UPDATE or DELETE without WHERE locks every row of an existing table until its transaction commits: every writer of that table waits, and a big table writes its whole size again to WAL at once.",
    safe: "Run it in batches: mark it `-- mantis: batch …` in a no-transaction file, so each batch commits quickly and writers get in between.",
    example: "UPDATE core.stock_on_hand SET unit_cost = 0;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let c = &stmt.c;
        let whole = (c.is("UpdateStmt") || c.is("DeleteStmt")) && c.get("where_clause").is_null();
        if !whole || stmt.batched {
            continue;
        }
        let Some(table) = ctx.existing_target(stmt) else {
            continue;
        };
        ctx.report_lock(
            stmt,
            &table,
            format!(
                "writes every row of {table} in one statement: each row stays locked until \
                 commit and every writer waits; batch it (`-- mantis: batch …` in a \
                 no-transaction file)"
            ),
        );
    }
}
