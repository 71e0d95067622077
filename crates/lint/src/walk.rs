//! Walking a parse tree as JSON. Every node of pg_query's tree serialises
//! externally tagged (`{"FuncCall": {…}}`), so one generic walk reaches every
//! expression, wherever the grammar puts it, without a match arm per node type.

use serde_json::Value;

/// Every node of type `tag` under `value`, depth first, in source order.
pub fn nodes<'a>(value: &'a Value, tag: &str) -> Vec<&'a Value> {
    let mut found = Vec::new();
    collect(value, tag, &mut found);
    found
}

fn collect<'a>(value: &'a Value, tag: &str, found: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == tag {
                    found.push(inner);
                }
                collect(inner, tag, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, tag, found)),
        _ => {}
    }
}

/// The strings of a name list (`[{"node":{"String":{"sval":"now"}}}]`), joined with dots.
pub fn name(list: &Value) -> String {
    strings(list).join(".")
}

/// The strings of a name list, in order.
pub fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.pointer("/node/String/sval").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A function call's name, lower case, without its schema (`now`).
pub fn func_name(call: &Value) -> String {
    strings(&call["funcname"])
        .last()
        .map(|n| n.to_lowercase())
        .unwrap_or_default()
}

/// `schema.rel` or `rel` of a RangeVar.
pub fn range_var(rv: &Value) -> String {
    let schema = rv["schemaname"].as_str().unwrap_or("");
    let rel = rv["relname"].as_str().unwrap_or("");
    if schema.is_empty() {
        rel.to_string()
    } else {
        format!("{schema}.{rel}")
    }
}

/// Every relation a tree names (RangeVar), qualified as written.
pub fn relations(value: &Value) -> Vec<String> {
    nodes(value, "RangeVar")
        .into_iter()
        .map(range_var)
        .collect()
}

/// The last field of every column reference under `value`, lower case.
pub fn columns(value: &Value) -> Vec<String> {
    nodes(value, "ColumnRef")
        .into_iter()
        .filter_map(|c| strings(&c["fields"]).last().map(|s| s.to_lowercase()))
        .collect()
}

/// A node's `location` (byte offset in its statement), when it has one.
pub fn location(node: &Value) -> Option<usize> {
    node["location"]
        .as_i64()
        .and_then(|l| usize::try_from(l).ok())
}

/// Whether two relation names, each qualified or not, can name the same
/// relation (`core.t` and `t` can; `core.t` and `audit.t` cannot).
pub fn same_relation(a: &str, b: &str) -> bool {
    let (sa, ra) = split(a);
    let (sb, rb) = split(b);
    ra.eq_ignore_ascii_case(rb) && (sa.is_none() || sb.is_none() || sa == sb)
}

fn split(name: &str) -> (Option<&str>, &str) {
    match name.rsplit_once('.') {
        Some((schema, rel)) => (Some(schema), rel),
        None => (None, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_match_with_or_without_schema() {
        assert!(same_relation("core.t", "t"));
        assert!(same_relation("t", "T"));
        assert!(!same_relation("core.t", "audit.t"));
        assert!(!same_relation("core.t", "core.u"));
    }
}
