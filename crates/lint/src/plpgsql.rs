//! PL/pgSQL bodies (DO blocks and functions), read by PostgreSQL's own
//! PL/pgSQL parser (`pg_query::parse_plpgsql`).

use serde_json::Value;

use crate::file::Stmt;

/// A parsed PL/pgSQL body and where its line 1 is in the file.
#[derive(Debug, Clone)]
pub struct Body {
    /// The PLpgSQL_function tree.
    pub tree: Value,
    /// The file line of the body's first line.
    pub first_line: usize,
}

impl Body {
    /// The file line of a body node's `lineno`.
    pub fn line_of(&self, node: &Value) -> usize {
        let lineno = node["lineno"].as_u64().unwrap_or(1).max(1);
        self.first_line + usize::try_from(lineno).unwrap_or(1) - 1
    }

    /// Every SQL statement and expression of the body, parsed (an
    /// expression as `SELECT expr`), with the file line of the PL/pgSQL
    /// statement that holds it.
    pub fn sql(&self) -> Vec<(usize, crate::statement::Classified)> {
        let mut out = Vec::new();
        collect_sql(&self.tree, self.first_line, self, &mut out);
        out
    }
}

/// The PL/pgSQL body of a DO block or a `LANGUAGE plpgsql` function, parsed;
/// None for other statements, other languages, or a body the parser refuses.
/// Parsed once per statement, however many rules ask.
pub fn body(stmt: &Stmt) -> Option<&Body> {
    stmt.body.get_or_init(|| read_body(stmt)).as_ref()
}

fn read_body(stmt: &Stmt) -> Option<Body> {
    let c = &stmt.c;
    let (text, language, trigger) = match c.kind.as_str() {
        "DoStmt" => (
            def(c.get("args"), "as")?,
            def(c.get("args"), "language"),
            false,
        ),
        "CreateFunctionStmt" => (
            def(c.get("options"), "as")?,
            def(c.get("options"), "language"),
            crate::walk::name(&c.get("return_type")["names"]).ends_with("trigger"),
        ),
        _ => return None,
    };
    if language.is_some_and(|l| !l.eq_ignore_ascii_case("plpgsql")) {
        return None;
    }
    let first_line = stmt.line + stmt.sql[..stmt.sql.find(&text)?].matches('\n').count();
    let tree = parse(&stmt.sql, &text, c.kind == "DoStmt" || trigger, trigger)?;
    Some(Body { tree, first_line })
}

/// A `DefElem` argument's string, e.g. the body (`as`) or `language`.
fn def(list: &Value, name: &str) -> Option<String> {
    let elem = crate::walk::nodes(list, "DefElem")
        .into_iter()
        .find(|d| d["defname"].as_str() == Some(name))?;
    let arg = &elem["arg"];
    arg.pointer("/node/String/sval")
        .or_else(|| arg.pointer("/node/List/items/0/node/String/sval"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Parses a body. DO blocks and trigger functions are parsed wrapped in a
/// function (libpg_query reads DO blocks, but its JSON of a trigger
/// function's own datums does not parse): `void` for a DO block, `record`
/// for a trigger, whose NEW, OLD and TG_ variables the wrapper declares.
/// The body starts on the wrapper's line 2.
fn parse(statement: &str, body: &str, as_block: bool, trigger: bool) -> Option<Value> {
    let parsed = if as_block {
        let declare = if trigger {
            "DECLARE new record; old record; tg_op text; tg_name text; tg_when text; \
             tg_level text; tg_table_name text; tg_table_schema text; tg_relname text; \
             tg_nargs int; tg_argv text[]; BEGIN"
        } else {
            "BEGIN"
        };
        let inner = body.trim_end().trim_end_matches(';');
        // A trigger returns NEW or OLD; a DO block returns nothing (a bare
        // `RETURN;` ends it early).
        let returns = if trigger { "record" } else { "void" };
        let wrapped = format!(
            "CREATE FUNCTION pg_temp.mantis_lint() RETURNS {returns} LANGUAGE plpgsql AS \
             $mantis_lint${declare}\n{inner};\nEND $mantis_lint$"
        );
        pg_query::parse_plpgsql(&wrapped)
    } else {
        pg_query::parse_plpgsql(statement)
    };
    let tree = parsed.ok()?;
    let function = tree.get(0)?.get("PLpgSQL_function")?.clone();
    Some(if as_block {
        shift_lines(function, -1)
    } else {
        function
    })
}

/// Moves every `lineno` by `delta` (the wrapper's extra first line).
fn shift_lines(mut value: Value, delta: i64) -> Value {
    fn walk(v: &mut Value, delta: i64) {
        match v {
            Value::Object(map) => {
                for (k, inner) in map.iter_mut() {
                    if k == "lineno" {
                        if let Some(n) = inner.as_i64() {
                            *inner = Value::from((n + delta).max(1));
                        }
                    } else {
                        walk(inner, delta);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, delta)),
            _ => {}
        }
    }
    walk(&mut value, delta);
    value
}

fn collect_sql(
    value: &Value,
    line: usize,
    body: &Body,
    out: &mut Vec<(usize, crate::statement::Classified)>,
) {
    let line = if value.get("lineno").is_some() {
        body.line_of(value)
    } else {
        line
    };
    match value {
        Value::Object(map) => {
            if let Some(query) = map.get("PLpgSQL_expr").and_then(|e| e["query"].as_str()) {
                let parsed = crate::statement::classify(query);
                let parsed = if parsed.error.is_some() {
                    crate::statement::classify(&format!("SELECT {query}"))
                } else {
                    parsed
                };
                out.push((line, parsed));
            }
            map.values().for_each(|v| collect_sql(v, line, body, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_sql(v, line, body, out)),
        _ => {}
    }
}
