//! An index predicate or expression that calls a function that is not IMMUTABLE.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "volatile-index-predicate",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "An index predicate or expression calls a function that is not IMMUTABLE (now(), CURRENT_DATE, random(), …): PostgreSQL refuses the index (42P17) and the whole transaction fails.",
    safe: "Use a literal cutoff in the predicate, or filter by time at query time.",
    example: "CREATE INDEX stock_movement_recent ON core.stock_movement (created_at)\n    WHERE created_at > now() - interval '90 days';",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        if !stmt.c.is("IndexStmt") {
            continue;
        }
        let parts = [stmt.c.get("where_clause"), stmt.c.get("index_params")];
        for part in parts {
            for call in walk::nodes(part, "FuncCall") {
                let name = walk::func_name(call);
                if flow::not_immutable(&name) {
                    ctx.report(
                        stmt,
                        walk::location(call),
                        format!(
                            "{name}() is not IMMUTABLE: PostgreSQL refuses it in an index \
                             (42P17); use a literal cutoff, or filter at query time"
                        ),
                    );
                }
            }
            for value in walk::nodes(part, "SqlvalueFunction") {
                ctx.report(
                    stmt,
                    walk::location(value),
                    "CURRENT_DATE/CURRENT_TIMESTAMP/… are not IMMUTABLE: PostgreSQL refuses \
                     them in an index (42P17); use a literal cutoff"
                        .to_string(),
                );
            }
        }
    }
}
