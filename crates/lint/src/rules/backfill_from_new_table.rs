//! A backfill that reads a table created earlier in the same file.

use super::{Ctx, Rule};
use crate::file::Stmt;
use crate::finding::{Family, Severity};
use crate::{flow, plpgsql, walk};

pub const RULE: Rule = Rule {
    id: "backfill-from-new-table",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "A backfill reads a table created earlier in the same migration that nothing has filled yet: it reads an empty table, does nothing, and says nothing.",
    safe: "Backfill from where the data lives today (the legacy table or column), or fill the new table first.",
    example: "CREATE TABLE core.stock_movement (product_id uuid, unit_cost numeric(18,6));\nUPDATE core.stock_on_hand s SET unit_cost = (SELECT avg(m.unit_cost) FROM core.stock_movement m WHERE m.product_id = s.product_id);",
    check,
};

/// Whether a statement (or a DO block or function among them) inserts into `table`.
fn filled_between(stmts: &[Stmt], table: &str) -> bool {
    stmts.iter().any(|s| {
        let top = flow::written_table(s).is_some_and(|t| walk::same_relation(&t, table))
            && !s.c.is("DeleteStmt");
        let in_body = plpgsql::body(s).is_some_and(|b| {
            b.sql().iter().any(|(_, q)| {
                q.is("InsertStmt")
                    && walk::same_relation(&walk::range_var(q.get("relation")), table)
            })
        });
        top || in_body
    })
}

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let is_backfill = stmt.c.is("UpdateStmt")
            || (stmt.c.is("InsertStmt") && !stmt.c.get("select_stmt").is_null());
        if !is_backfill {
            continue;
        }
        let mut reads = flow::reads(stmt);
        reads.sort();
        reads.dedup();
        for read in reads {
            let Some(created) = ctx.file.created_before(&read, stmt.index) else {
                continue;
            };
            let has_rows = created.c.is("CreateTableAsStmt");
            let between = &ctx.statements()[created.index + 1..stmt.index];
            if has_rows || filled_between(between, &read) {
                continue;
            }
            ctx.report(
                stmt,
                None,
                format!(
                    "reads {read}, created at line {} and not filled since: the backfill \
                     reads an empty table and changes nothing; backfill from where the data \
                     lives today",
                    created.line
                ),
            );
        }
    }
}
