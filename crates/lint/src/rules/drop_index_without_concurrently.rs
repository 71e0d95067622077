//! DROP INDEX without CONCURRENTLY.

use pg_query::protobuf::ObjectType;

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::walk;

pub const RULE: Rule = Rule {
    id: "drop-index-without-concurrently",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the index's table: reads and writes wait, and everything queues behind it while it waits.",
    safe: "DROP INDEX CONCURRENTLY IF EXISTS in a `-- mantis: no-transaction` file.",
    example: "DROP INDEX core.products_legacy_code;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let c = &stmt.c;
        let index = c.get("remove_type").as_i64() == Some(ObjectType::ObjectIndex as i64);
        if !(c.is("DropStmt") && index) || c.get("concurrent").as_bool() == Some(true) {
            continue;
        }
        for object in c.get("objects").as_array().into_iter().flatten() {
            let name = walk::name(&object["node"]["List"]["items"]);
            let made_here = ctx.statements()[..stmt.index].iter().any(|s| {
                s.c.is("IndexStmt")
                    && s.c
                        .get("idxname")
                        .as_str()
                        .is_some_and(|n| walk::same_relation(n, &name))
            });
            if !made_here {
                ctx.report_lock(
                    stmt,
                    &name,
                    format!(
                        "drops {name} under ACCESS EXCLUSIVE on its table: reads and writes \
                         wait; DROP INDEX CONCURRENTLY in a `-- mantis: no-transaction` file"
                    ),
                );
            }
        }
    }
}
