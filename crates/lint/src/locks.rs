//! Which lock a statement takes on which table (PostgreSQL's
//! explicit-locking and ALTER TABLE pages; SAFE-DDL-NOTES.md §1). One ALTER
//! TABLE takes the strongest lock any of its subcommands needs.

use pg_query::protobuf::{AlterTableType as At, ConstrType, ObjectType};
use serde::Serialize;
use serde_json::Value;

use crate::walk;

/// PostgreSQL's table lock modes, weakest first (serialised as pg_locks
/// names them: `AccessExclusiveLock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum LockMode {
    /// ACCESS SHARE (SELECT).
    #[serde(rename = "AccessShareLock")]
    AccessShare,
    /// ROW SHARE (SELECT FOR UPDATE; the referenced table of VALIDATE).
    #[serde(rename = "RowShareLock")]
    RowShare,
    /// ROW EXCLUSIVE (INSERT, UPDATE, DELETE).
    #[serde(rename = "RowExclusiveLock")]
    RowExclusive,
    /// SHARE UPDATE EXCLUSIVE (VACUUM, CREATE INDEX CONCURRENTLY, VALIDATE).
    #[serde(rename = "ShareUpdateExclusiveLock")]
    ShareUpdateExclusive,
    /// SHARE (CREATE INDEX): blocks writes.
    #[serde(rename = "ShareLock")]
    Share,
    /// SHARE ROW EXCLUSIVE (CREATE TRIGGER, ADD FOREIGN KEY): blocks writes.
    #[serde(rename = "ShareRowExclusiveLock")]
    ShareRowExclusive,
    /// EXCLUSIVE (REFRESH MATERIALIZED VIEW CONCURRENTLY): blocks writes.
    #[serde(rename = "ExclusiveLock")]
    Exclusive,
    /// ACCESS EXCLUSIVE (most ALTER TABLE, DROP, TRUNCATE): blocks reads too.
    #[serde(rename = "AccessExclusiveLock")]
    AccessExclusive,
}

impl LockMode {
    /// As PostgreSQL names it: `ACCESS EXCLUSIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Whether writers (INSERT/UPDATE/DELETE) wait for it.
    pub fn blocks_writes(self) -> bool {
        self >= LockMode::Share
    }

    /// Whether plain readers wait for it.
    pub fn blocks_reads(self) -> bool {
        self == LockMode::AccessExclusive
    }
}

/// One table and the lock a statement takes on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableLock {
    /// The table as written (`core.products` or `products`).
    pub table: String,
    /// The lock.
    pub mode: LockMode,
}

/// The locks of a statement of node type `kind`.
pub fn of(kind: &str, tree: &Value) -> Vec<TableLock> {
    let mut out = Vec::new();
    let mut take = |table: String, mode: LockMode| {
        if table.is_empty() {
            return;
        }
        match out.iter_mut().find(|l: &&mut TableLock| l.table == table) {
            Some(l) => l.mode = l.mode.max(mode),
            None => out.push(TableLock { table, mode }),
        }
    };
    let target = || walk::range_var(&tree["relation"]);
    match kind {
        "InsertStmt" | "UpdateStmt" | "DeleteStmt" | "MergeStmt" => {
            take(target(), LockMode::RowExclusive)
        }
        "IndexStmt" => take(target(), index_lock(tree)),
        "CreateTrigStmt" => take(target(), LockMode::ShareRowExclusive),
        "RefreshMatViewStmt" => take(target(), refresh_lock(tree)),
        "AlterTableStmt" => alter_table(tree, &mut take),
        "CreateStmt" => foreign_keys(tree, &mut take),
        "DropStmt" => drop(tree, &mut take),
        "TruncateStmt" => walk::relations(&tree["relations"])
            .into_iter()
            .for_each(|t| take(t, LockMode::AccessExclusive)),
        "RenameStmt" => take(target(), LockMode::AccessExclusive),
        "ClusterStmt" => take(target(), LockMode::AccessExclusive),
        "ReindexStmt" => take(target(), reindex_lock(tree)),
        "VacuumStmt" => vacuum(tree, &mut take),
        "LockStmt" => lock_table(tree, &mut take),
        _ => {}
    }
    out
}

fn index_lock(tree: &Value) -> LockMode {
    if tree["concurrent"].as_bool() == Some(true) {
        LockMode::ShareUpdateExclusive
    } else {
        LockMode::Share
    }
}

fn refresh_lock(tree: &Value) -> LockMode {
    if tree["concurrent"].as_bool() == Some(true) {
        LockMode::Exclusive
    } else {
        LockMode::AccessExclusive
    }
}

fn reindex_lock(tree: &Value) -> LockMode {
    let concurrent = walk::nodes(&tree["params"], "DefElem")
        .iter()
        .any(|d| d["defname"].as_str() == Some("concurrently"));
    if concurrent {
        LockMode::ShareUpdateExclusive
    } else {
        LockMode::Share
    }
}

fn alter_table(tree: &Value, take: &mut impl FnMut(String, LockMode)) {
    let table = walk::range_var(&tree["relation"]);
    for cmd in walk::nodes(&tree["cmds"], "AlterTableCmd") {
        take(table.clone(), subcommand_lock(cmd));
        for fk in walk::nodes(&cmd["def"], "Constraint") {
            if is_constraint(fk, ConstrType::ConstrForeign) {
                take(walk::range_var(&fk["pktable"]), LockMode::ShareRowExclusive);
            }
        }
    }
}

/// Whether a Constraint node is of type `ty`.
pub fn is_constraint(constraint: &Value, ty: ConstrType) -> bool {
    constraint["contype"].as_i64() == Some(ty as i64)
}

/// Whether an AlterTableCmd is of subtype `ty`.
pub fn is_subcommand(cmd: &Value, ty: At) -> bool {
    cmd["subtype"].as_i64() == Some(ty as i64)
}

fn subcommand_lock(cmd: &Value) -> LockMode {
    let sue = [
        At::AtSetStatistics,
        At::AtSetOptions,
        At::AtResetOptions,
        At::AtValidateConstraint,
        At::AtClusterOn,
        At::AtDropCluster,
        At::AtSetRelOptions,
        At::AtResetRelOptions,
        At::AtReplaceRelOptions,
        At::AtAttachPartition,
    ];
    let sre = [
        At::AtEnableTrig,
        At::AtEnableAlwaysTrig,
        At::AtEnableReplicaTrig,
        At::AtDisableTrig,
        At::AtEnableTrigAll,
        At::AtDisableTrigAll,
        At::AtEnableTrigUser,
        At::AtDisableTrigUser,
    ];
    if sue.iter().any(|t| is_subcommand(cmd, *t)) {
        return LockMode::ShareUpdateExclusive;
    }
    if sre.iter().any(|t| is_subcommand(cmd, *t)) {
        return LockMode::ShareRowExclusive;
    }
    if is_subcommand(cmd, At::AtAddConstraint) {
        let def = &cmd["def"]["node"]["Constraint"];
        if is_constraint(def, ConstrType::ConstrForeign) {
            return LockMode::ShareRowExclusive;
        }
    }
    LockMode::AccessExclusive
}

fn foreign_keys(tree: &Value, take: &mut impl FnMut(String, LockMode)) {
    for c in walk::nodes(tree, "Constraint") {
        if is_constraint(c, ConstrType::ConstrForeign) {
            take(walk::range_var(&c["pktable"]), LockMode::ShareRowExclusive);
        }
    }
}

fn drop(tree: &Value, take: &mut impl FnMut(String, LockMode)) {
    let ty = tree["remove_type"].as_i64();
    let relation = [
        ObjectType::ObjectTable,
        ObjectType::ObjectIndex,
        ObjectType::ObjectMatview,
        ObjectType::ObjectView,
    ]
    .iter()
    .any(|t| ty == Some(*t as i64));
    if !relation {
        return;
    }
    let mode = if tree["concurrent"].as_bool() == Some(true) {
        LockMode::ShareUpdateExclusive
    } else {
        LockMode::AccessExclusive
    };
    for object in tree["objects"].as_array().into_iter().flatten() {
        let name = walk::name(&object["node"]["List"]["items"]);
        take(name, mode);
    }
}

fn vacuum(tree: &Value, take: &mut impl FnMut(String, LockMode)) {
    let full = walk::nodes(&tree["options"], "DefElem")
        .iter()
        .any(|d| d["defname"].as_str() == Some("full"));
    let mode = if full {
        LockMode::AccessExclusive
    } else {
        LockMode::ShareUpdateExclusive
    };
    for rel in walk::nodes(&tree["rels"], "VacuumRelation") {
        take(walk::range_var(&rel["relation"]), mode);
    }
}

fn lock_table(tree: &Value, take: &mut impl FnMut(String, LockMode)) {
    let mode = match tree["mode"].as_i64().unwrap_or(8) {
        1 => LockMode::AccessShare,
        2 => LockMode::RowShare,
        3 => LockMode::RowExclusive,
        4 => LockMode::ShareUpdateExclusive,
        5 => LockMode::Share,
        6 => LockMode::ShareRowExclusive,
        7 => LockMode::Exclusive,
        _ => LockMode::AccessExclusive,
    };
    for table in walk::relations(&tree["relations"]) {
        take(table, mode);
    }
}

#[cfg(test)]
mod tests {
    use crate::statement::classify;

    use super::*;

    fn locks(sql: &str) -> Vec<(String, LockMode)> {
        classify(sql)
            .locks
            .into_iter()
            .map(|l| (l.table, l.mode))
            .collect()
    }

    #[test]
    fn alter_table_takes_its_strongest_subcommand_and_the_referenced_table() {
        assert_eq!(
            locks("ALTER TABLE p ADD CONSTRAINT f FOREIGN KEY (b) REFERENCES core.brand (id) NOT VALID"),
            vec![
                ("p".into(), LockMode::ShareRowExclusive),
                ("core.brand".into(), LockMode::ShareRowExclusive)
            ]
        );
        assert_eq!(
            locks("ALTER TABLE p VALIDATE CONSTRAINT f, ADD COLUMN c int"),
            vec![("p".into(), LockMode::AccessExclusive)]
        );
        assert_eq!(
            locks("ALTER TABLE p VALIDATE CONSTRAINT f"),
            vec![("p".into(), LockMode::ShareUpdateExclusive)]
        );
    }

    #[test]
    fn drops_truncates_refreshes_and_locks() {
        assert_eq!(
            locks("DROP INDEX CONCURRENTLY core.i"),
            vec![("core.i".into(), LockMode::ShareUpdateExclusive)]
        );
        assert_eq!(
            locks("TRUNCATE a, b"),
            vec![
                ("a".into(), LockMode::AccessExclusive),
                ("b".into(), LockMode::AccessExclusive)
            ]
        );
        assert_eq!(
            locks("REFRESH MATERIALIZED VIEW CONCURRENTLY v"),
            vec![("v".into(), LockMode::Exclusive)]
        );
        assert_eq!(
            locks("LOCK TABLE t IN SHARE MODE"),
            vec![("t".into(), LockMode::Share)]
        );
        assert_eq!(
            locks("VACUUM (FULL) t"),
            vec![("t".into(), LockMode::AccessExclusive)]
        );
    }
}
