//! A validation script that writes.

use super::{Ctx, Rule};
use crate::file::FileKind;
use crate::finding::{Family, Severity};
use crate::{flow, plpgsql};

pub const RULE: Rule = Rule {
    id: "validation-writes",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "A validation script INSERTs, UPDATEs or DELETEs: a test movement inserted and deleted again still leaves what its triggers changed (a unit cost), so checking the database changes production data.",
    safe: "Validate with queries that return the offending rows; test a rule inside a transaction that is rolled back (mantis runs NNN_name.verify.sql that way).",
    example: "-- validate_003.sql\nINSERT INTO core.stock_movement (product_id, qty) VALUES ('00000000-0000-0000-0000-000000000001', 1);\nDELETE FROM core.stock_movement WHERE qty = 1;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    // mantis runs a verify file in a transaction it rolls back.
    if !ctx.file.is_validation() || ctx.file.kind == FileKind::Verify {
        return;
    }
    for stmt in ctx.statements() {
        if let Some(table) = flow::written_table(stmt) {
            ctx.report(stmt, None, message(&table));
            continue;
        }
        let Some(body) = plpgsql::body(stmt) else {
            continue;
        };
        for (line, sql) in body.sql() {
            if matches!(
                sql.kind.as_str(),
                "InsertStmt" | "UpdateStmt" | "DeleteStmt"
            ) {
                let table = crate::walk::range_var(sql.get("relation"));
                ctx.report_line(stmt, line, message(&table));
            }
        }
    }
}

fn message(table: &str) -> String {
    format!(
        "this validation script writes {table}: checking the database changes it (triggers \
         keep their effects even when the row is deleted again); return offending rows \
         instead, or test inside a transaction that is rolled back"
    )
}
