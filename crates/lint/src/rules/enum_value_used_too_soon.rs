//! ALTER TYPE … ADD VALUE, then the new value used in the same transaction.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::walk;

pub const RULE: Rule = Rule {
    id: "enum-value-used-too-soon",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "An enum value added with ALTER TYPE … ADD VALUE is used later in the same transaction: PostgreSQL refuses it until the transaction that added it commits (55P04), and the migration fails.",
    safe: "Add the value in its own migration (or commit before using it, in a no-transaction file).",
    example: "ALTER TYPE core.movement_type ADD VALUE 'RETURN';\nUPDATE core.stock_movement SET movement_type = 'RETURN' WHERE reference LIKE 'RMA%';",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    let stmts = ctx.statements();
    for stmt in stmts {
        if !stmt.c.is("AlterEnumStmt") || !stmt.in_transaction {
            continue;
        }
        let Some(value) = stmt.c.get("new_val").as_str().filter(|v| !v.is_empty()) else {
            continue;
        };
        let user = stmts[stmt.index + 1..]
            .iter()
            .take_while(|s| s.in_transaction && !s.c.is("TransactionStmt"))
            .find(|s| {
                walk::nodes(&s.c.tree, "sval")
                    .iter()
                    .any(|v| v.as_str() == Some(value))
            });
        if let Some(user) = user {
            ctx.report(
                stmt,
                None,
                format!(
                    "'{value}' is added here and used at line {} before this transaction \
                     commits: PostgreSQL refuses that (55P04); add the value in its own \
                     migration",
                    user.line
                ),
            );
        }
    }
}
