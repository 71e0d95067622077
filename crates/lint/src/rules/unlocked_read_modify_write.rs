//! A function reads a row with plain SELECT … INTO, then updates it from what it read.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::statement::classify;
use crate::{plpgsql, walk};

pub const RULE: Rule = Rule {
    id: "unlocked-read-modify-write",
    family: Family::Correctness,
    severity: Severity::Warning,
    hazard: "A trigger or function reads a row with plain SELECT … INTO, then UPDATEs that table from the values read: two sessions read the same old values and one update is lost (a weighted-average cost computed twice from the same base).",
    safe: "Read with SELECT … FOR UPDATE (or do the arithmetic in the UPDATE itself: SET x = x + …), so the second session waits and reads the first one's result.",
    example: "CREATE FUNCTION core.post() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE c numeric;\nBEGIN\n    SELECT unit_cost INTO c FROM core.stock_on_hand WHERE id = NEW.stock_id;\n    UPDATE core.stock_on_hand SET unit_cost = (c + NEW.unit_cost) / 2 WHERE id = NEW.stock_id;\n    RETURN NEW;\nEND $$;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    // Functions and triggers run in many sessions at once; a DO block runs once.
    for stmt in ctx
        .statements()
        .iter()
        .filter(|s| s.c.is("CreateFunctionStmt"))
    {
        let Some(body) = plpgsql::body(stmt) else {
            continue;
        };
        let sql: Vec<&serde_json::Value> = walk::nodes(&body.tree, "PLpgSQL_stmt_execsql");
        for (i, read) in sql.iter().enumerate() {
            if read["into"].as_bool() != Some(true) {
                continue;
            }
            let text = read
                .pointer("/sqlstmt/PLpgSQL_expr/query")
                .and_then(|q| q.as_str());
            let select = classify(text.unwrap_or(""));
            if !select.is("SelectStmt")
                || !select
                    .get("locking_clause")
                    .as_array()
                    .is_none_or(Vec::is_empty)
            {
                continue;
            }
            let tables = walk::relations(select.get("from_clause"));
            let update = sql[i + 1..].iter().find(|w| {
                let text = w
                    .pointer("/sqlstmt/PLpgSQL_expr/query")
                    .and_then(|q| q.as_str());
                let u = classify(text.unwrap_or(""));
                u.is("UpdateStmt")
                    && tables
                        .iter()
                        .any(|t| walk::same_relation(t, &walk::range_var(u.get("relation"))))
            });
            if update.is_some() {
                ctx.report_line(
                    stmt,
                    body.line_of(read),
                    format!(
                        "reads {} without FOR UPDATE, then updates it from what it read: two \
                         sessions read the same values and one update is lost; SELECT … FOR \
                         UPDATE, or compute in the UPDATE",
                        tables.join(", ")
                    ),
                );
            }
        }
    }
}
