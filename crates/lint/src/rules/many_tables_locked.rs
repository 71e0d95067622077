//! One transaction that takes write-blocking locks on several existing tables.

use super::{Ctx, Rule};
use crate::file::Stmt;
use crate::finding::{Family, Severity};

pub const RULE: Rule = Rule {
    id: "many-tables-locked",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "One transaction takes write-blocking locks on more than one existing table: every lock is held until commit, so writers of the first table wait for everything after it, and other sessions that lock the tables in another order deadlock.",
    safe: "One busy table per transaction: split the file, or mark it `-- mantis: no-transaction` with each table's changes in its own short BEGIN … COMMIT.",
    example: "ALTER TABLE core.products ADD CONSTRAINT products_brand_fk FOREIGN KEY (brand_id) REFERENCES core.brand (id) NOT VALID;\nALTER TABLE core.stock_on_hand ADD COLUMN unit_cost numeric(18,6);",
    check,
};

/// The transactions of a file, as runs of statement indexes.
fn transactions(stmts: &[Stmt]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut open = false;
    for s in stmts {
        if !s.in_transaction {
            open = false;
            continue;
        }
        if !open {
            out.push(Vec::new());
            open = true;
        }
        if let Some(last) = out.last_mut() {
            last.push(s.index);
        }
        if s.c.is("TransactionStmt") && !matches!(s.c.get("kind").as_i64(), Some(1 | 2)) {
            open = false;
        }
    }
    out
}

fn check(ctx: &mut Ctx<'_>) {
    let stmts = ctx.statements();
    for run in transactions(stmts) {
        let mut locked: Vec<String> = Vec::new();
        for &i in &run {
            let stmt = &stmts[i];
            for lock in &stmt.c.locks {
                let existing = ctx.file.is_existing(&lock.table, i);
                if !existing || !lock.mode.blocks_writes() || locked.contains(&lock.table) {
                    continue;
                }
                locked.push(lock.table.clone());
                if locked.len() == 2 {
                    ctx.report_lock(
                        stmt,
                        &lock.table,
                        format!(
                            "locks {} against writes while this transaction still holds {}: \
                             both stay locked until commit; one busy table per transaction",
                            lock.table, locked[0]
                        ),
                    );
                }
            }
        }
    }
}
