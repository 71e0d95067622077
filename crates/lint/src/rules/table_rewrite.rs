//! A change that rewrites an existing table under ACCESS EXCLUSIVE.

use pg_query::protobuf::{AlterTableType as At, ConstrType};

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::locks::is_subcommand;
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "table-rewrite",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "Adding a column with a volatile DEFAULT (clock_timestamp(), gen_random_uuid(), nextval), a STORED generated column, an identity or serial column, or changing a column's type rewrites the whole table under ACCESS EXCLUSIVE: reads and writes wait for the rewrite.",
    safe: "Add the column plain (or with a constant DEFAULT), SET DEFAULT afterwards, and backfill in batches (a trigger keeps new rows right); change a type by a new column, a backfill and a swap.",
    example: "ALTER TABLE core.stock_movement ADD COLUMN movement_ref uuid DEFAULT gen_random_uuid();",
    check,
};

/// Why adding this column rewrites the table, if it does.
fn rewrites(column: &serde_json::Value) -> Option<String> {
    for default in flow::column_constraints(column, ConstrType::ConstrDefault) {
        for call in walk::nodes(&default["raw_expr"], "FuncCall") {
            let name = walk::func_name(call);
            if flow::VOLATILE.contains(&name.as_str()) {
                return Some(format!("a volatile DEFAULT {name}()"));
            }
        }
    }
    if !flow::column_constraints(column, ConstrType::ConstrGenerated).is_empty() {
        return Some("a STORED generated column".to_string());
    }
    if !flow::column_constraints(column, ConstrType::ConstrIdentity).is_empty() {
        return Some("an identity column".to_string());
    }
    let ty = walk::strings(&column["type_name"]["names"]);
    ty.last()
        .filter(|t| t.ends_with("serial"))
        .map(|t| format!("a {t} column"))
}

/// `ALTER COLUMN … TYPE text|varchar` (no length) is binary-coercible from
/// the varchar/text it usually follows; other type changes rewrite.
fn retype_rewrites(cmd: &serde_json::Value) -> bool {
    let ty = cmd.pointer("/def/node/ColumnDef/type_name");
    let names = ty.map(|t| walk::strings(&t["names"])).unwrap_or_default();
    let unbounded = ty.is_some_and(|t| t["typmods"].as_array().is_none_or(Vec::is_empty));
    !(unbounded && matches!(names.last().map(String::as_str), Some("text" | "varchar")))
}

fn check(ctx: &mut Ctx<'_>) {
    for (stmt, table, cmd) in ctx.existing_alter_cmds() {
        let why = match flow::added_column(cmd) {
            Some(column) => rewrites(column),
            None if is_subcommand(cmd, At::AtAlterColumnType) && retype_rewrites(cmd) => Some(
                format!("a new type for {}", cmd["name"].as_str().unwrap_or("")),
            ),
            None => None,
        };
        if let Some(why) = why {
            ctx.report_lock(
                stmt,
                &table,
                format!(
                    "rewrites {table} under ACCESS EXCLUSIVE ({why}): reads and writes wait \
                     for the whole rewrite; add the column plain, SET DEFAULT, and backfill \
                     in batches"
                ),
            );
        }
    }
}
