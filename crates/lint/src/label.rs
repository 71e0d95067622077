//! Short labels for statements, as plan and rehearse show them.

use crate::statement::Classified;
use crate::walk;

/// `CREATE INDEX CONCURRENTLY ON core.products`, `UPDATE core.stock_on_hand`, …
pub fn of(c: &Classified) -> String {
    let on = |rv: &serde_json::Value| walk::range_var(rv);
    let flag = |field: &str, word: &str| {
        if c.get(field).as_bool() == Some(true) {
            format!(" {word}")
        } else {
            String::new()
        }
    };
    let relation = || on(c.get("relation"));
    match c.kind.as_str() {
        "" => "(not SQL the parser reads)".to_string(),
        "IndexStmt" => format!(
            "CREATE{} INDEX{} ON {}",
            flag("unique", "UNIQUE"),
            flag("concurrent", "CONCURRENTLY"),
            relation()
        ),
        "AlterTableStmt" => format!("ALTER TABLE {}", relation()),
        "CreateStmt" => format!("CREATE TABLE {}", relation()),
        "CreateTableAsStmt" => format!("CREATE TABLE AS {}", on(&c.get("into")["rel"])),
        "ViewStmt" => format!("CREATE VIEW {}", on(c.get("view"))),
        "InsertStmt" => format!("INSERT INTO {}", relation()),
        "UpdateStmt" => format!("UPDATE {}", relation()),
        "DeleteStmt" => format!("DELETE FROM {}", relation()),
        "MergeStmt" => format!("MERGE INTO {}", relation()),
        "CreateTrigStmt" => format!("CREATE TRIGGER ON {}", relation()),
        "RefreshMatViewStmt" => format!(
            "REFRESH MATERIALIZED VIEW{} {}",
            flag("concurrent", "CONCURRENTLY"),
            relation()
        ),
        "TransactionStmt" => "transaction control".to_string(),
        "VariableSetStmt" => format!("SET {}", c.get("name").as_str().unwrap_or("")),
        other => other.trim_end_matches("Stmt").to_string(),
    }
}
