//! Query plan checks: the key queries must use the intended indexes or views.
//!
//! The statement is EXPLAINed (not run) with sequential scans discouraged
//! (`enable_seqscan = off`, local to the check's savepoint), so the check
//! asks "can the planner use the intended index for this query?" independent
//! of how little data a test database holds.

use std::collections::BTreeSet;

use tokio_postgres::{Client, SimpleQueryMessage};

use super::report::Outcome;

/// EXPLAINs `sql` and compares the indexes and relations it uses with `uses`.
pub async fn plan_outcome(client: &Client, sql: &str, uses: &[String]) -> Outcome {
    let explain = format!("SET LOCAL enable_seqscan = off; EXPLAIN (FORMAT JSON) {sql}");
    let messages = match client.simple_query(&explain).await {
        Ok(m) => m,
        Err(e) => return super::run::errored(&e),
    };
    let plan = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => row.try_get(0).ok().flatten().map(str::to_string),
        _ => None,
    });
    let used = plan
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
        .map(|v| names_in_plan(&v))
        .unwrap_or_default();
    let missing: Vec<&String> = uses.iter().filter(|u| !used.contains(*u)).collect();
    if missing.is_empty() {
        return Outcome::Passed;
    }
    let found = if used.is_empty() {
        "nothing".to_string()
    } else {
        used.iter().cloned().collect::<Vec<_>>().join(", ")
    };
    Outcome::Failed {
        columns: vec!["expected".into(), "plan uses".into()],
        rows: missing
            .iter()
            .map(|m| vec![Some((*m).clone()), Some(found.clone())])
            .collect(),
        total: missing.len(),
    }
}

/// Every "Index Name" and "Relation Name" in an EXPLAIN (FORMAT JSON) plan.
fn names_in_plan(value: &serde_json::Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    collect(value, &mut names);
    names
}

fn collect(value: &serde_json::Value, names: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                if key == "Index Name" || key == "Relation Name" {
                    if let Some(s) = v.as_str() {
                        names.insert(s.to_string());
                    }
                }
                collect(v, names);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, names)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_relation_names_are_found_at_any_depth() {
        let plan = serde_json::json!([{"Plan": {"Node Type": "Limit", "Plans": [
            {"Node Type": "Index Scan", "Index Name": "a_idx", "Relation Name": "t"},
            {"Node Type": "Bitmap Heap Scan", "Relation Name": "u", "Plans": [
                {"Node Type": "Bitmap Index Scan", "Index Name": "b_idx"}]}]}}]);
        let names: Vec<String> = names_in_plan(&plan).into_iter().collect();
        assert_eq!(names, ["a_idx", "b_idx", "t", "u"]);
    }
}
