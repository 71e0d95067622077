//! A CHECK or FOREIGN KEY added before a backfill writes its columns.

use std::collections::BTreeSet;

use pg_query::protobuf::ConstrType;

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::locks::is_constraint;
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "constraint-before-backfill",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "A CHECK or FOREIGN KEY is added, then a later statement of the same file backfills its columns from data that may violate it: the first dirty row fails the backfill (23514/23503) and the whole migration rolls back.",
    safe: "Backfill first, cleaning or nulling what does not fit (and counting it), then add the constraint (NOT VALID, then VALIDATE).",
    example: "ALTER TABLE core.suppliers ADD CONSTRAINT suppliers_website_ok CHECK (website ~ '^https?://');\nUPDATE core.suppliers SET website = metadata->>'website';",
    check,
};

fn constrained_columns(constraint: &serde_json::Value) -> BTreeSet<String> {
    if is_constraint(constraint, ConstrType::ConstrCheck) {
        walk::columns(&constraint["raw_expr"]).into_iter().collect()
    } else if is_constraint(constraint, ConstrType::ConstrForeign) {
        walk::strings(&constraint["fk_attrs"])
            .into_iter()
            .map(|c| c.to_lowercase())
            .collect()
    } else {
        BTreeSet::new()
    }
}

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let table = flow::altered_table(stmt);
        for cmd in flow::alter_cmds(stmt) {
            let Some(constraint) = flow::added_constraint(cmd) else {
                continue;
            };
            let columns = constrained_columns(constraint);
            let backfill = ctx.file.after(stmt.index).iter().find(|later| {
                flow::written_table(later).is_some_and(|t| walk::same_relation(&t, &table))
                    && flow::written_columns(later)
                        .iter()
                        .any(|(col, value)| columns.contains(col) && !value_is_constant(value))
            });
            if let Some(backfill) = backfill {
                let name = constraint["conname"].as_str().unwrap_or("the constraint");
                ctx.report(
                    stmt,
                    walk::location(constraint),
                    format!(
                        "{name} is added before the backfill at line {} writes its columns: \
                         one row that violates it fails the whole migration; backfill (and \
                         clean) first, then add the constraint",
                        backfill.line
                    ),
                );
            }
        }
    }
}

fn value_is_constant(value: &serde_json::Value) -> bool {
    value.get("node").and_then(|n| n.get("AConst")).is_some()
}
