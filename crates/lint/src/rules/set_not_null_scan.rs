//! SET NOT NULL on an existing table without a validated CHECK to prove it.

use pg_query::protobuf::{AlterTableType as At, ConstrType};

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::locks::{is_constraint, is_subcommand};
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "set-not-null-scan",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "ALTER COLUMN … SET NOT NULL scans the whole table under ACCESS EXCLUSIVE (reads and writes wait), unless a validated CHECK (column IS NOT NULL) already proves it.",
    safe: "ADD CONSTRAINT … CHECK (column IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL (no scan), then drop the CHECK.",
    example: "ALTER TABLE core.products ALTER COLUMN brand_id SET NOT NULL;",
    check,
};

/// Whether an earlier statement adds a CHECK (column IS NOT NULL) on the table.
fn proven(ctx: &Ctx<'_>, table: &str, column: &str, before: usize) -> bool {
    ctx.statements()[..before].iter().any(|s| {
        walk::same_relation(&flow::altered_table(s), table)
            && flow::alter_cmds(s).iter().any(|cmd| {
                flow::added_constraint(cmd).is_some_and(|k| {
                    is_constraint(k, ConstrType::ConstrCheck)
                        && walk::nodes(&k["raw_expr"], "NullTest")
                            .iter()
                            .any(|t| walk::columns(&t["arg"]).contains(&column.to_lowercase()))
                })
            })
    })
}

fn check(ctx: &mut Ctx<'_>) {
    for (stmt, table, cmd) in ctx.existing_alter_cmds() {
        if !is_subcommand(cmd, At::AtSetNotNull) {
            continue;
        }
        let column = cmd["name"].as_str().unwrap_or("");
        if proven(ctx, &table, column, stmt.index) {
            continue;
        }
        ctx.report_lock(
            stmt,
            &table,
            format!(
                "SET NOT NULL on {table}.{column} scans every row under ACCESS EXCLUSIVE; \
                 add CHECK ({column} IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL"
            ),
        );
    }
}
