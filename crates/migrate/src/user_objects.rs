//! Triggers, rules and row-level security policies that no migration of the
//! set made, on the tables a pending migration writes: a DBA's BEFORE
//! trigger can change every value a backfill writes, an audit trigger logs
//! each row, a rule can redirect the write. Named before anything runs, and
//! refused unless the run says how to treat them.

use tokio_postgres::Client;

use crate::error::Error;
use crate::footprint::{Footprint, Object};
use crate::sql;

/// What a run does about user triggers, rules and policies on the tables its
/// migrations write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserObjects {
    /// Refuse before any change, naming each (the default).
    #[default]
    Refuse,
    /// Run; they act on the migration's writes as on any other (the run's
    /// events name each).
    Fire,
}

/// One trigger, rule or policy someone else made on a table a migration writes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserObject {
    /// `trigger`, `rule` or `policy`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// The table it is on.
    pub table: String,
    /// Its definition.
    pub definition: String,
}

impl std::fmt::Display for UserObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} on {}: {}",
            self.kind, self.name, self.table, self.definition
        )
    }
}

/// The user triggers, rules and policies on the tables `footprint` writes
/// that exist now; triggers named in `ours` (the set's own, by table and
/// name) are left out.
///
/// # Errors
/// [`Error::Database`] when the catalog cannot be read.
pub async fn on_written_tables(
    client: &Client,
    footprint: &Footprint,
    ours: &[Object],
) -> Result<Vec<UserObject>, Error> {
    let mut found = Vec::new();
    for table in &footprint.writes {
        let rows = client
            .query(sql::USER_OBJECTS_ON, &[table])
            .await
            .map_err(Error::db(
                "reading the triggers of the tables a migration writes",
            ))?;
        for row in rows {
            let object = UserObject {
                kind: row.get("kind"),
                name: row.get("name"),
                table: row.get("table_name"),
                definition: row.get("definition"),
            };
            if !is_ours(&object, ours) && !found.contains(&object) {
                found.push(object);
            }
        }
    }
    Ok(found)
}

fn is_ours(object: &UserObject, ours: &[Object]) -> bool {
    object.kind == "trigger"
        && ours.iter().any(|o| {
            matches!(o, Object::Trigger { table, name }
                if unquoted(name) == object.name && same_table(table, &object.table))
        })
}

/// `core.t` and `"core"."t"` are one table; the catalog's name is qualified.
fn same_table(written: &str, catalog: &str) -> bool {
    let bare = |s: &str| s.split('.').map(unquoted).collect::<Vec<_>>().join(".");
    bare(written) == bare(catalog)
}

fn unquoted(s: &str) -> String {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .map_or_else(|| s.to_string(), |s| s.replace("\"\"", "\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_of_the_set_is_ours_by_table_and_name() {
        let ours = [Object::Trigger {
            table: "core.stock_on_hand".into(),
            name: "trg_stock_on_hand_value".into(),
        }];
        let object = |name: &str, table: &str| UserObject {
            kind: "trigger".into(),
            name: name.into(),
            table: table.into(),
            definition: String::new(),
        };
        assert!(is_ours(
            &object("trg_stock_on_hand_value", "core.stock_on_hand"),
            &ours
        ));
        assert!(!is_ours(
            &object("trg_stock_on_hand_value", "core.products"),
            &ours
        ));
        assert!(!is_ours(
            &object("round_quantity", "core.stock_on_hand"),
            &ours
        ));
        let rule = UserObject {
            kind: "rule".into(),
            ..object("trg_stock_on_hand_value", "core.stock_on_hand")
        };
        assert!(!is_ours(&rule, &ours), "only triggers are made by the set");
    }
}
