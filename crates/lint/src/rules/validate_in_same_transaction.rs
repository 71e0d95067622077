//! ADD CONSTRAINT … NOT VALID and VALIDATE CONSTRAINT in one transaction.

use pg_query::protobuf::AlterTableType as At;

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::flow;
use crate::locks::is_subcommand;

pub const RULE: Rule = Rule {
    id: "validate-in-same-transaction",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "A constraint added NOT VALID is validated in the same transaction: the ADD's strong lock (ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE for a foreign key) is held through the VALIDATE's whole scan, so splitting them achieved nothing.",
    safe: "Commit after ADD CONSTRAINT … NOT VALID; VALIDATE CONSTRAINT in a later transaction (a later migration, or its own BEGIN … COMMIT in a no-transaction file).",
    example: "ALTER TABLE core.stock_on_hand ADD CONSTRAINT stock_qty_ok CHECK (qty >= 0) NOT VALID;\nALTER TABLE core.stock_on_hand VALIDATE CONSTRAINT stock_qty_ok;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    let stmts = ctx.statements();
    for (stmt, table, cmd) in ctx.existing_alter_cmds() {
        if !is_subcommand(cmd, At::AtValidateConstraint) || !stmt.in_transaction {
            continue;
        }
        let name = cmd["name"].as_str().unwrap_or("");
        // The ADD, earlier in the same run of in-transaction statements.
        let added = stmts[..stmt.index]
            .iter()
            .rev()
            .take_while(|s| s.in_transaction && !closes(s))
            .find(|s| {
                crate::walk::same_relation(&flow::altered_table(s), &table)
                    && flow::alter_cmds(s).iter().any(|c| {
                        flow::added_constraint(c)
                            .is_some_and(|k| k["conname"].as_str() == Some(name))
                    })
            });
        if let Some(added) = added {
            ctx.report_lock(
                stmt,
                &table,
                format!(
                    "{name} was added NOT VALID at line {} in this same transaction: its \
                     strong lock on {table} is held through this whole scan; validate in a \
                     later transaction",
                    added.line
                ),
            );
        }
    }
}

/// A COMMIT or ROLLBACK ends the transaction the walk back is in.
fn closes(stmt: &crate::file::Stmt) -> bool {
    stmt.c.is("TransactionStmt") && matches!(stmt.c.get("kind").as_i64(), Some(3 | 4))
}
