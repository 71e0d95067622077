//! VACUUM FULL, CLUSTER and plain REINDEX in a migration.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::locks::LockMode;

pub const RULE: Rule = Rule {
    id: "blocking-maintenance",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "VACUUM FULL and CLUSTER rewrite the table under ACCESS EXCLUSIVE; REINDEX without CONCURRENTLY blocks writes (and reads that would use the index) for the whole rebuild.",
    safe: "REINDEX … CONCURRENTLY; pg_repack instead of VACUUM FULL or CLUSTER; plain VACUUM and ANALYZE block no one.",
    example: "VACUUM FULL core.stock_movement;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let kind = stmt.c.kind.as_str();
        if !matches!(kind, "VacuumStmt" | "ClusterStmt" | "ReindexStmt") {
            continue;
        }
        let heavy = stmt.c.locks.iter().find(|l| l.mode >= LockMode::Share);
        if let Some(lock) = heavy {
            ctx.report_lock(
                stmt,
                &lock.table.clone(),
                format!(
                    "takes {} on {} for the whole rebuild; use REINDEX … CONCURRENTLY or \
                     pg_repack",
                    lock.mode.as_str(),
                    lock.table
                ),
            );
        }
    }
}
