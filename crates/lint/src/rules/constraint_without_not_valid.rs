//! ADD CHECK or FOREIGN KEY on an existing table without NOT VALID.

use pg_query::protobuf::ConstrType;

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::flow;
use crate::locks::is_constraint;

pub const RULE: Rule = Rule {
    id: "constraint-without-not-valid",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "ADD CHECK scans the whole table under ACCESS EXCLUSIVE, and ADD FOREIGN KEY under SHARE ROW EXCLUSIVE on both tables: reads (CHECK) or writes wait for the scan.",
    safe: "ADD CONSTRAINT … NOT VALID (a brief lock), then VALIDATE CONSTRAINT in a later transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on).",
    example: "ALTER TABLE core.stock_on_hand ADD CONSTRAINT stock_qty_ok CHECK (qty >= 0);",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let table = flow::altered_table(stmt);
        if ctx.file.created_before(&table, stmt.index).is_some() {
            continue;
        }
        for cmd in flow::alter_cmds(stmt) {
            let Some(k) = flow::added_constraint(cmd) else {
                continue;
            };
            let check = is_constraint(k, ConstrType::ConstrCheck);
            let fk = is_constraint(k, ConstrType::ConstrForeign);
            if !(check || fk) || k["skip_validation"].as_bool() == Some(true) {
                continue;
            }
            let lock = if check {
                "ACCESS EXCLUSIVE (reads and writes wait)"
            } else {
                "SHARE ROW EXCLUSIVE on both tables (writes wait)"
            };
            ctx.report_lock(
                stmt,
                &table,
                format!(
                    "validates every row of {table} under {lock}; add it NOT VALID, then \
                     VALIDATE CONSTRAINT in a later transaction"
                ),
            );
        }
    }
}
