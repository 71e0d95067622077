//! What the roles that use the database may do, before and after the
//! rehearsal's migrations: a privilege a role held on a relation that still
//! exists and no longer holds (a table dropped and created again loses its
//! grants) breaks that role's application; a new relation none of those
//! roles may use is often the same outage, one deploy later (ADR-029).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tokio_postgres::Client;

use crate::error::Error;
use crate::sql;

/// Each relation and the (role, privilege) pairs held on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Grants(BTreeMap<String, BTreeSet<(String, String)>>);

/// What changed for the roles.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RolesReport {
    /// The roles (other than owners) holding privileges before, with what.
    pub roles: Vec<String>,
    /// `role: PRIVILEGE on relation` held before, gone after (the relation exists).
    pub lost: Vec<String>,
    /// New relations on which none of those roles holds any privilege.
    pub new_without_grants: Vec<String>,
}

impl Grants {
    /// Reads every relation's grants.
    pub(crate) async fn read(client: &Client) -> Result<Grants, Error> {
        let rows = client
            .query(sql::PRIVILEGES, &[])
            .await
            .map_err(Error::db("reading the roles' privileges"))?;
        let mut grants = Grants::default();
        for row in rows {
            let held = grants.0.entry(row.get("relation")).or_default();
            let role: Option<String> = row.get("role");
            let privilege: Option<String> = row.get("privilege");
            if let Some(pair) = role.zip(privilege) {
                held.insert(pair);
            }
        }
        Ok(grants)
    }

    /// `self` before, `after` after the migrations.
    pub(crate) fn compare(&self, after: &Grants) -> RolesReport {
        let mut by_role: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut relations: BTreeMap<&str, usize> = BTreeMap::new();
        for held in self.0.values() {
            let mut counted = BTreeSet::new();
            for (role, privilege) in held {
                by_role.entry(role).or_default().insert(privilege);
                if counted.insert(role.as_str()) {
                    *relations.entry(role).or_default() += 1;
                }
            }
        }
        let roles = by_role
            .iter()
            .map(|(role, privileges)| {
                let list: Vec<&str> = privileges.iter().copied().collect();
                format!(
                    "{role} ({} on {} relation(s))",
                    list.join(", "),
                    relations.get(role).copied().unwrap_or(0)
                )
            })
            .collect();
        let lost = self
            .0
            .iter()
            .filter_map(|(relation, held)| Some((relation, held, after.0.get(relation)?)))
            .flat_map(|(relation, held, now)| {
                held.difference(now)
                    .map(move |(role, privilege)| format!("{role}: {privilege} on {relation}"))
            })
            .collect();
        let users: BTreeSet<&str> = by_role.keys().copied().filter(|r| *r != "PUBLIC").collect();
        let new_without_grants = if users.is_empty() {
            Vec::new()
        } else {
            after
                .0
                .iter()
                .filter(|(relation, _)| !self.0.contains_key(*relation))
                .filter(|(_, held)| !held.iter().any(|(role, _)| users.contains(role.as_str())))
                .map(|(relation, _)| relation.clone())
                .collect()
        };
        RolesReport {
            roles,
            lost,
            new_without_grants,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(list: &[(&str, &[(&str, &str)])]) -> Grants {
        Grants(
            list.iter()
                .map(|(relation, held)| {
                    (
                        relation.to_string(),
                        held.iter()
                            .map(|(r, p)| (r.to_string(), p.to_string()))
                            .collect(),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn a_grant_gone_from_a_relation_that_remains_is_lost() {
        let before = grants(&[
            ("core.t", &[("app", "SELECT"), ("app", "UPDATE")]),
            ("core.gone", &[("app", "SELECT")]),
            ("core.u", &[("reporting", "SELECT")]),
        ]);
        let after = grants(&[
            ("core.t", &[("app", "SELECT")]),
            ("core.u", &[("reporting", "SELECT")]),
            ("core.new", &[]),
            ("core.shared", &[("reporting", "SELECT")]),
        ]);
        let report = before.compare(&after);
        assert_eq!(report.lost, vec!["app: UPDATE on core.t"]);
        assert_eq!(report.new_without_grants, vec!["core.new"]);
        assert_eq!(
            report.roles,
            vec![
                "app (SELECT, UPDATE on 2 relation(s))",
                "reporting (SELECT on 1 relation(s))"
            ]
        );
    }

    #[test]
    fn without_roles_nothing_new_is_flagged() {
        let before = grants(&[("core.t", &[])]);
        let after = grants(&[("core.t", &[]), ("core.new", &[])]);
        let report = before.compare(&after);
        assert!(report.roles.is_empty() && report.lost.is_empty());
        assert!(report.new_without_grants.is_empty());
    }
}
