//! mantis's statement splitter (psql's rules, crates/migrate/src/split.rs)
//! cuts every file where PostgreSQL's own parser does: the parser checks the
//! splitter. It found that semicolons inside parentheses (a multi-action
//! CREATE RULE) ended a statement for the splitter and not for psql.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use std::path::Path;

use mantis_migrate::split_statements;

/// Statement texts as the parser splits a file that parses.
fn parser_split(text: &str) -> Option<Vec<String>> {
    let pieces = pg_query::split_with_parser(text).ok()?;
    Some(
        pieces
            .into_iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
    )
}

fn splitter(text: &str) -> Vec<String> {
    split_statements(text)
        .unwrap()
        .into_iter()
        .map(|s| s.sql.trim().to_string())
        .collect()
}

fn texts() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let set = mantis_schema::migrations().unwrap();
    for m in set.migrations() {
        for s in [Some(&m.up), m.down.as_ref(), m.verify.as_ref()]
            .into_iter()
            .flatten()
        {
            out.push((s.path.clone(), s.sql.clone()));
        }
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for kind in ["ok", "err"] {
        for entry in std::fs::read_dir(data.join(kind)).unwrap() {
            let path = entry.unwrap().path();
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    out.push((
        "create rule".to_string(),
        "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\n\
         CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n\
         SELECT 'a;b', \"c;d\", $x$ ; $x$, E'\\';';"
            .to_string(),
    ));
    out
}

#[test]
fn the_splitter_cuts_every_file_where_the_parser_does() {
    let mut compared = 0;
    for (name, text) in texts() {
        let Some(parsed) = parser_split(&text) else {
            continue;
        };
        assert_eq!(splitter(&text), parsed, "{name}");
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} files parsed");
}
