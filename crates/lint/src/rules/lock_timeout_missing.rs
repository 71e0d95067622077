//! DDL with no lock_timeout, when the runner sets none.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::locks::LockMode;

pub const RULE: Rule = Rule {
    id: "lock-timeout-missing",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "A statement waits for a strong lock with no lock_timeout: while it waits behind a long transaction, every later query of that table queues behind it, readers included.",
    safe: "SET lock_timeout (e.g. '5s') before it and retry on 55P03; mantis sets one for each statement (--lock-timeout) unless told not to.",
    example: "-- run with --lock-timeout 0, or by psql\nALTER TABLE core.products ADD COLUMN note text;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    if ctx.options.runner_sets_lock_timeout {
        return;
    }
    for stmt in ctx.statements() {
        if stmt.c.is("VariableSetStmt") && stmt.c.get("name").as_str() == Some("lock_timeout") {
            return;
        }
        let strong = stmt.c.locks.iter().find(|l| {
            l.mode >= LockMode::ShareUpdateExclusive && ctx.file.is_existing(&l.table, stmt.index)
        });
        if let Some(lock) = strong {
            let table = lock.table.clone();
            ctx.report_lock(
                stmt,
                &table,
                format!(
                    "waits for {} on {table} with no lock_timeout: everything after it \
                     queues while it waits; SET lock_timeout first and retry on 55P03",
                    lock.mode.as_str()
                ),
            );
            return;
        }
    }
}
