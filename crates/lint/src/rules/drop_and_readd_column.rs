//! DROP COLUMN, then ADD COLUMN of the same name.

use pg_query::protobuf::AlterTableType as At;

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::locks::is_subcommand;
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "drop-and-readd-column",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "A column is dropped and added again under the same name in one migration: every value it held is gone (the new column holds NULL or its DEFAULT), and its indexes, constraints and dependent views went with it. Usually a type change in disguise.",
    safe: "ALTER COLUMN … TYPE … USING for a small table; otherwise add a new column, backfill it, switch readers, then drop the old one.",
    example: "ALTER TABLE core.products DROP COLUMN cost_price;\nALTER TABLE core.products ADD COLUMN cost_price numeric(18,6);",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    let stmts = ctx.statements();
    for (stmt, table, cmd) in ctx.existing_alter_cmds() {
        if !is_subcommand(cmd, At::AtDropColumn) {
            continue;
        }
        let column = cmd["name"].as_str().unwrap_or("");
        let readded = stmts[stmt.index..].iter().find(|s| {
            walk::same_relation(&flow::altered_table(s), &table)
                && flow::alter_cmds(s).iter().any(|c| {
                    flow::added_column(c).is_some_and(|d| {
                        d["colname"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(column))
                    })
                })
        });
        if let Some(readded) = readded {
            ctx.report(
                stmt,
                None,
                format!(
                    "{table}.{column} is dropped here and added again at line {}: every value \
                     it held is lost; change its type with ALTER COLUMN … TYPE … USING, or \
                     add a new column and backfill it",
                    readded.line
                ),
            );
        }
    }
}
