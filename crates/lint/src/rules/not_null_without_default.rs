//! ADD COLUMN … NOT NULL without a DEFAULT on an existing table.

use pg_query::protobuf::ConstrType;

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "not-null-without-default",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "ADD COLUMN … NOT NULL without a DEFAULT fails on a table that has rows (23502), and the running application's INSERTs that do not name the column fail after it.",
    safe: "Add the column nullable (or with a constant DEFAULT), backfill it, then enforce NOT NULL through a validated CHECK (column IS NOT NULL).",
    example: "ALTER TABLE core.products ADD COLUMN brand_id uuid NOT NULL;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for (stmt, table, cmd) in ctx.existing_alter_cmds() {
        let Some(column) = flow::added_column(cmd) else {
            continue;
        };
        let not_null = column["is_not_null"].as_bool() == Some(true)
            || !flow::column_constraints(column, ConstrType::ConstrNotnull).is_empty();
        let filled = !flow::column_constraints(column, ConstrType::ConstrDefault).is_empty()
            || !flow::column_constraints(column, ConstrType::ConstrIdentity).is_empty()
            || !flow::column_constraints(column, ConstrType::ConstrGenerated).is_empty();
        if not_null && !filled {
            let name = column["colname"].as_str().unwrap_or("");
            ctx.report(
                stmt,
                walk::location(column),
                format!(
                    "{table}.{name} is NOT NULL with no DEFAULT: the ALTER fails as soon as \
                     {table} has a row (23502); add it nullable, backfill, then enforce NOT NULL"
                ),
            );
        }
    }
}
