//! ON DELETE CASCADE from a master table into an audit or ledger table.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "cascade-into-audit",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "A foreign key from an append-only, audit or ledger table (movements, history, log, audit, events, journal) deletes with ON DELETE CASCADE: deleting the master row erases its audit trail.",
    safe: "ON DELETE RESTRICT (or NO ACTION): a product with history is deactivated, not deleted.",
    example: "ALTER TABLE core.stock_movement ADD CONSTRAINT stock_movement_product_fk\n    FOREIGN KEY (product_id) REFERENCES core.products (id) ON DELETE CASCADE;",
    check,
};

const AUDIT_WORDS: &[&str] = &[
    "movement", "history", "audit", "log", "event", "journal", "ledger",
];

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let table = walk::range_var(stmt.c.get("relation"));
        let rel = table.rsplit('.').next().unwrap_or(&table).to_lowercase();
        if !AUDIT_WORDS.iter().any(|w| rel.contains(w)) {
            continue;
        }
        for fk in flow::foreign_keys(stmt) {
            if fk["fk_del_action"].as_str() == Some("c") {
                ctx.report(
                    stmt,
                    walk::location(fk),
                    format!(
                        "ON DELETE CASCADE into {table}: deleting a {} row erases its audit \
                         trail; use ON DELETE RESTRICT",
                        walk::range_var(&fk["pktable"])
                    ),
                );
            }
        }
    }
}
