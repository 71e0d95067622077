//! The statement classifier: one statement, read by PostgreSQL's own parser
//! (libpg_query, through the `pg_query` crate), as lint, plan and rehearse
//! see it: what kind it is, what it names, which lock it takes on which table.

use serde_json::Value;

use crate::locks::{self, TableLock};

/// One statement as the parser read it.
#[derive(Debug, Clone)]
pub struct Classified {
    /// The parse tree's node type, e.g. `AlterTableStmt` (empty when the
    /// parser refused the statement).
    pub kind: String,
    /// The node's fields as JSON (externally tagged children); Null when
    /// the parser refused the statement.
    pub tree: Value,
    /// The parser's message, when it refused the statement.
    pub error: Option<String>,
    /// The lock it takes on each table it names, strongest first per table.
    pub locks: Vec<TableLock>,
    /// How many statements the parser saw in the text (1 for a statement
    /// the splitter cut right).
    pub parsed_statements: usize,
    /// The statement's length in bytes when it was too long to parse whole
    /// and was read from a summary (an `INSERT … VALUES` of its first row).
    pub summarised: Option<usize>,
}

impl Classified {
    /// Whether the parser read it as `kind` (e.g. `IndexStmt`).
    pub fn is(&self, kind: &str) -> bool {
        self.kind == kind
    }

    /// A field of the node, Null if absent.
    pub fn get(&self, field: &str) -> &Value {
        &self.tree[field]
    }

    /// A short label: `CREATE INDEX CONCURRENTLY ON core.products`,
    /// `ALTER TABLE core.stock_on_hand`, … (the node type when there is no
    /// better one).
    pub fn label(&self) -> String {
        crate::label::of(self)
    }
}

/// Classifies one statement's text; a very long `INSERT … VALUES` from its
/// first row (`long`), so that memory stays a small multiple of the text.
pub fn classify(sql: &str) -> Classified {
    if sql.len() > crate::long::LONG {
        if let Some(summary) = crate::long::values_summary(sql) {
            return Classified {
                summarised: Some(sql.len()),
                ..parse(&summary)
            };
        }
    }
    parse(sql)
}

fn parse(sql: &str) -> Classified {
    match pg_query::parse(sql, 0) {
        Ok(result) => {
            let count = result.protobuf.stmts.len();
            let node = result
                .protobuf
                .stmts
                .first()
                .and_then(|raw| raw.stmt.as_ref())
                .and_then(|n| n.node.as_ref());
            let (kind, tree) = match node.and_then(|n| serde_json::to_value(n).ok()) {
                Some(Value::Object(map)) => map
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| (String::new(), Value::Null)),
                _ => (String::new(), Value::Null),
            };
            let locks = locks::of(&kind, &tree);
            Classified {
                kind,
                tree,
                error: None,
                locks,
                parsed_statements: count,
                summarised: None,
            }
        }
        Err(e) => Classified {
            kind: String::new(),
            tree: Value::Null,
            error: Some(parse_message(e)),
            locks: Vec::new(),
            parsed_statements: 0,
            summarised: None,
        },
    }
}

fn parse_message(error: pg_query::Error) -> String {
    match error {
        pg_query::Error::Parse(message) => message,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locks::LockMode;

    #[test]
    fn classifies_with_the_server_parser() {
        let c = classify("CREATE INDEX CONCURRENTLY i ON core.products (sku)");
        assert!(c.is("IndexStmt"));
        assert_eq!(c.label(), "CREATE INDEX CONCURRENTLY ON core.products");
        assert_eq!(c.locks[0].mode, LockMode::ShareUpdateExclusive);
        let bad = classify("RAISE NOTICE 'x'");
        assert!(bad.error.unwrap().contains("RAISE"));
        assert_eq!(classify("select 1; select 2").parsed_statements, 2);
    }
}
