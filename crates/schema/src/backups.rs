//! Backup sets: what a down script saved before dropping a migration's
//! objects, and putting it back after the migration is applied again.
//!
//! A backup set is a schema `mantis_backup_<version>_<UTC time>` whose comment
//! is JSON naming the version and the rows saved (written by the down file).

use mantis_migrate::transaction::transaction;
use tokio_postgres::Client;

use crate::sql;

/// One saved set.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BackupSet {
    /// The schema holding it.
    pub schema: String,
    /// The migration version whose down saved it.
    pub version: u64,
    /// That migration's name.
    pub migration: String,
    /// When it was saved (as the server wrote it).
    pub created_at: String,
    /// Rows saved per table.
    pub rows: serde_json::Value,
}

/// Every backup set, oldest first.
///
/// # Errors
/// The driver error.
pub async fn list(client: &Client) -> Result<Vec<BackupSet>, tokio_postgres::Error> {
    let rows = client.query_typed(sql::BACKUP_SETS, &[]).await?;
    let mut sets = Vec::new();
    for row in &rows {
        let name = row.try_get("nspname")?;
        let comment: Option<String> = row.try_get("comment")?;
        if let Some(set) = comment.and_then(|c| parse(name, &c)) {
            sets.push(set);
        }
    }
    sets.sort_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then(a.schema.cmp(&b.schema))
    });
    Ok(sets)
}

fn parse(schema: String, comment: &str) -> Option<BackupSet> {
    let doc: serde_json::Value = serde_json::from_str(comment).ok()?;
    doc.get("mantis_backup")?;
    Some(BackupSet {
        schema,
        version: doc.get("version")?.as_u64()?,
        migration: doc.get("migration")?.as_str()?.to_string(),
        created_at: doc.get("created_at")?.as_str()?.to_string(),
        rows: doc.get("rows").cloned().unwrap_or_default(),
    })
}

/// The newest set saved by `version`'s down.
pub fn latest(sets: &[BackupSet], version: u64) -> Option<&BackupSet> {
    sets.iter().rev().find(|s| s.version == version)
}

/// The restore script of a migration, if it has one.
pub fn restore_script(version: u64) -> Option<&'static str> {
    match version {
        3 => Some(include_str!(
            "../restore/003_critical_schema_fixes.restore.sql"
        )),
        _ => None,
    }
}

/// Puts `set` back, in one transaction. The migration must be applied.
///
/// # Errors
/// The driver error; the transaction is then rolled back and nothing changed.
pub async fn restore(client: &Client, set: &BackupSet) -> Result<bool, tokio_postgres::Error> {
    let Some(script) = restore_script(set.version) else {
        return Ok(false);
    };
    let body = async {
        client
            .query_one(sql::SET_RESTORE_FROM, &[&set.schema])
            .await?;
        client.batch_execute(script).await
    };
    transaction(client, body, |e| e).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mantis_comments_make_a_backup_set() {
        let ok = r#"{"mantis_backup":1,"version":3,"migration":"critical_schema_fixes","created_at":"2026-01-01T00:00:00+00:00","rows":{"brand":2}}"#;
        let set = parse("mantis_backup_003_x".into(), ok).unwrap();
        assert_eq!(set.version, 3);
        assert_eq!(set.rows["brand"], 2);
        assert!(parse("mantis_backup_x".into(), "a note").is_none());
        assert!(parse("mantis_backup_x".into(), r#"{"version":3}"#).is_none());
    }

    #[test]
    fn latest_picks_the_newest_of_the_version() {
        let set = |schema: &str, version, at: &str| BackupSet {
            schema: schema.into(),
            version,
            migration: "m".into(),
            created_at: at.into(),
            rows: serde_json::Value::Null,
        };
        let sets = [set("a", 3, "1"), set("b", 3, "2"), set("c", 4, "3")];
        assert_eq!(latest(&sets, 3).unwrap().schema, "b");
        assert!(latest(&sets, 5).is_none());
    }
}
