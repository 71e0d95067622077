//! What rules ask of statements: the subcommands of an ALTER TABLE, what a
//! statement writes and reads, names that mean money.

use pg_query::protobuf::{AlterTableType as At, ConstrType};
use serde_json::Value;

use crate::file::Stmt;
use crate::locks::{is_constraint, is_subcommand};
use crate::walk;

/// The subcommands of an ALTER TABLE (empty for other statements).
pub fn alter_cmds(stmt: &Stmt) -> Vec<&Value> {
    if !stmt.c.is("AlterTableStmt") {
        return Vec::new();
    }
    walk::nodes(stmt.c.get("cmds"), "AlterTableCmd")
}

/// The ALTER TABLE's table.
pub fn altered_table(stmt: &Stmt) -> String {
    walk::range_var(stmt.c.get("relation"))
}

/// The constraint an `ADD CONSTRAINT` subcommand adds.
pub fn added_constraint(cmd: &Value) -> Option<&Value> {
    is_subcommand(cmd, At::AtAddConstraint)
        .then(|| cmd.pointer("/def/node/Constraint"))
        .flatten()
}

/// The column an `ADD COLUMN` subcommand adds.
pub fn added_column(cmd: &Value) -> Option<&Value> {
    is_subcommand(cmd, At::AtAddColumn)
        .then(|| cmd.pointer("/def/node/ColumnDef"))
        .flatten()
}

/// The constraints of a column definition of type `ty`.
pub fn column_constraints(column: &Value, ty: ConstrType) -> Vec<&Value> {
    walk::nodes(&column["constraints"], "Constraint")
        .into_iter()
        .filter(|c| is_constraint(c, ty))
        .collect()
}

/// Every foreign key a statement defines (inline, table-level, or added).
pub fn foreign_keys(stmt: &Stmt) -> Vec<&Value> {
    if !(stmt.c.is("CreateStmt") || stmt.c.is("AlterTableStmt")) {
        return Vec::new();
    }
    walk::nodes(&stmt.c.tree, "Constraint")
        .into_iter()
        .filter(|c| is_constraint(c, ConstrType::ConstrForeign))
        .collect()
}

/// The table a statement writes rows of (INSERT, UPDATE, DELETE, MERGE, COPY FROM).
pub fn written_table(stmt: &Stmt) -> Option<String> {
    let kind = stmt.c.kind.as_str();
    let writes = matches!(
        kind,
        "InsertStmt" | "UpdateStmt" | "DeleteStmt" | "MergeStmt"
    ) || (kind == "CopyStmt" && stmt.c.get("is_from").as_bool() == Some(true));
    writes.then(|| walk::range_var(stmt.c.get("relation")))
}

/// The columns an UPDATE sets, each with its value expression; the columns
/// an INSERT names, with its source (Null).
pub fn written_columns(stmt: &Stmt) -> Vec<(String, &Value)> {
    match stmt.c.kind.as_str() {
        "UpdateStmt" => walk::nodes(stmt.c.get("target_list"), "ResTarget")
            .into_iter()
            .filter_map(|t| Some((t["name"].as_str()?.to_lowercase(), &t["val"])))
            .collect(),
        "InsertStmt" => walk::nodes(stmt.c.get("cols"), "ResTarget")
            .into_iter()
            .filter_map(|t| Some((t["name"].as_str()?.to_lowercase(), &Value::Null)))
            .collect(),
        _ => Vec::new(),
    }
}

/// The relations a statement reads: every relation it names but its target.
pub fn reads(stmt: &Stmt) -> Vec<String> {
    let target = stmt.c.get("relation");
    let target_at = walk::location(target);
    walk::nodes(&stmt.c.tree, "RangeVar")
        .into_iter()
        .filter(|rv| target.is_null() || walk::location(rv) != target_at)
        .map(walk::range_var)
        .collect()
}

/// Whether a column name means a unit cost, a price or an average.
pub fn is_unit_money(column: &str) -> bool {
    let c = column.to_lowercase();
    ["cost", "price", "avg", "average"]
        .iter()
        .any(|w| c.contains(w))
}

/// Whether a column name means money or a quantity.
pub fn is_money_or_quantity(column: &str) -> bool {
    let c = column.to_lowercase();
    is_unit_money(&c)
        || ["value", "amount", "total", "qty", "quantity", "valuation"]
            .iter()
            .any(|w| c.contains(w))
}

/// Built-in functions whose result changes from row to row (VOLATILE,
/// `pg_proc.provolatile = 'v'`): a column DEFAULT calling one rewrites the table.
pub const VOLATILE: &[&str] = &[
    "clock_timestamp",
    "timeofday",
    "random",
    "random_normal",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "nextval",
    "setval",
    "txid_current",
];

/// Built-in functions fixed within a statement but not forever (STABLE):
/// fine in a DEFAULT, refused in an index.
pub const STABLE: &[&str] = &[
    "now",
    "statement_timestamp",
    "transaction_timestamp",
    "currval",
    "lastval",
    "current_setting",
    "age",
    "to_char",
    "to_timestamp",
    "current_database",
    "current_schema",
    "version",
    "pg_backend_pid",
    "inet_client_addr",
];

/// Whether a built-in function is not IMMUTABLE (volatile or stable), among
/// those a migration is likely to use.
pub fn not_immutable(name: &str) -> bool {
    VOLATILE.contains(&name) || STABLE.contains(&name)
}
