//! A column added with a DEFAULT, then backfilled with COALESCE(column, …).

use pg_query::protobuf::ConstrType;

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "default-defeats-backfill",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "A column added with a DEFAULT is then backfilled with COALESCE(column, source): the DEFAULT already filled every existing row, so the backfill never reads the source and the legacy values are lost.",
    safe: "Add the column without a DEFAULT, backfill it from the source, then SET DEFAULT; or backfill without COALESCE on the new column.",
    example: "ALTER TABLE core.suppliers ADD COLUMN payment_terms text DEFAULT 'Net 30';\nUPDATE core.suppliers SET payment_terms = COALESCE(payment_terms, metadata->>'payment_terms');",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    let mut defaulted: Vec<(String, String, usize)> = Vec::new();
    for stmt in ctx.statements() {
        let table = flow::altered_table(stmt);
        for cmd in flow::alter_cmds(stmt) {
            let Some(column) = flow::added_column(cmd) else {
                continue;
            };
            if !flow::column_constraints(column, ConstrType::ConstrDefault).is_empty() {
                let name = column["colname"].as_str().unwrap_or("").to_lowercase();
                defaulted.push((table.clone(), name, stmt.line));
            }
        }
        let Some(target) = flow::written_table(stmt) else {
            continue;
        };
        for (column, value) in flow::written_columns(stmt) {
            let Some((_, _, line)) = defaulted
                .iter()
                .find(|(t, c, _)| walk::same_relation(t, &target) && *c == column)
            else {
                continue;
            };
            let coalesce_first = walk::nodes(value, "CoalesceExpr")
                .first()
                .is_some_and(|c| walk::columns(&c["args"][0]).first() == Some(&column));
            if coalesce_first {
                ctx.report(
                    stmt,
                    walk::location(
                        value
                            .get("node")
                            .and_then(|n| n.get("CoalesceExpr"))
                            .unwrap_or(value),
                    ),
                    format!(
                        "{column} got a DEFAULT at line {line}, which already filled every \
                         existing row: COALESCE({column}, …) never reads the source and the \
                         legacy values are lost; add the column without a DEFAULT, backfill, \
                         then SET DEFAULT"
                    ),
                );
            }
        }
    }
}
