//! One SQL file of a migration: its header options and its statements.

use crate::source::Checksum;
use crate::split::{split_statements, Statement};

/// Which part of a migration a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScriptKind {
    /// `NNN_name.up.sql`
    Up,
    /// `NNN_name.down.sql`
    Down,
    /// `NNN_name.verify.sql`
    Verify,
}

/// Options set in a file's header with `-- mantis: option[, option]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptOptions {
    /// Run the whole file in one transaction (default) or each statement on its own.
    pub transactional: bool,
}

impl Default for ScriptOptions {
    fn default() -> Self {
        ScriptOptions {
            transactional: true,
        }
    }
}

/// Header options the engine understands, with what they do.
pub const KNOWN_OPTIONS: &[(&str, &str)] = &[(
    "no-transaction",
    "run each statement on its own, outside a transaction (needed for CREATE INDEX CONCURRENTLY)",
)];

/// A parsed SQL file.
#[derive(Debug, Clone)]
pub struct Script {
    /// Where the file came from, for messages (`dir/003_x.up.sql`).
    pub path: String,
    /// The file's full text.
    pub sql: String,
    /// SHA-256 of the file's bytes.
    pub checksum: Checksum,
    /// Up, down or verify.
    pub kind: ScriptKind,
    /// Header options.
    pub options: ScriptOptions,
    /// The statements, in order.
    pub statements: Vec<Statement>,
}

impl Script {
    /// Parses a file's text.
    ///
    /// # Errors
    /// A one-line description of the first problem found (unknown header
    /// option, unsplittable SQL, a statement the runner cannot run as asked).
    pub fn parse(path: &str, text: &str, kind: ScriptKind) -> Result<Script, String> {
        let options = parse_header(text)?;
        let statements = split_statements(text).map_err(|e| e.to_string())?;
        if options.transactional && kind != ScriptKind::Verify {
            check_transactional(&statements)?;
        }
        Ok(Script {
            path: path.to_string(),
            sql: text.to_string(),
            checksum: Checksum::of(text.as_bytes()),
            kind,
            options,
            statements,
        })
    }

    /// "transaction" or "no-transaction", as recorded in history.
    pub fn mode(&self) -> &'static str {
        if self.options.transactional {
            "transaction"
        } else {
            "no-transaction"
        }
    }
}

/// Reads `-- mantis: …` lines from the comment block at the top of the file.
fn parse_header(text: &str) -> Result<ScriptOptions, String> {
    let mut options = ScriptOptions::default();
    let header = text
        .lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("--"));
    for line in header {
        let Some(rest) = line.strip_prefix("--").map(str::trim) else {
            continue;
        };
        let Some(list) = rest.strip_prefix("mantis:") else {
            continue;
        };
        for option in list.split([',', ' ']).filter(|o| !o.is_empty()) {
            apply_option(&mut options, option)?;
        }
    }
    Ok(options)
}

fn apply_option(options: &mut ScriptOptions, option: &str) -> Result<(), String> {
    match option {
        "no-transaction" => options.transactional = false,
        other => {
            let known: Vec<&str> = KNOWN_OPTIONS.iter().map(|(name, _)| *name).collect();
            return Err(format!(
                "unknown header option `{other}` (known: {})",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

/// The runner wraps a transactional file in BEGIN/COMMIT; some statements cannot
/// live there (PostgreSQL docs, "CREATE INDEX": CONCURRENTLY "cannot be executed
/// inside a transaction block"), and transaction control would break the wrapping.
fn check_transactional(statements: &[Statement]) -> Result<(), String> {
    for statement in statements {
        let words = leading_words(&statement.sql, 6);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        if let Some(problem) = transactional_problem(&words) {
            return Err(format!("line {}: {problem}", statement.line));
        }
    }
    Ok(())
}

fn transactional_problem(words: &[&str]) -> Option<&'static str> {
    const NO_TX: &str = "cannot run inside a transaction block; put it in its own file \
                         starting with `-- mantis: no-transaction`";
    const TX_CONTROL: &str = "transaction control is done by the runner; remove it, or mark \
                              the file `-- mantis: no-transaction`";
    match words {
        ["begin" | "commit" | "rollback" | "end" | "abort", ..] => Some(TX_CONTROL),
        ["start", "transaction", ..] => Some(TX_CONTROL),
        ["create", "index" | "unique", ..] | ["drop", "index", ..] | ["reindex", ..]
            if words.contains(&"concurrently") =>
        {
            Some(NO_TX)
        }
        ["vacuum", ..] | ["create" | "drop", "database", ..] | ["alter", "system", ..] => {
            Some(NO_TX)
        }
        _ => None,
    }
}

/// The first `n` words of a statement, lower-cased (punctuation splits words).
pub(crate) fn leading_words(sql: &str, n: usize) -> Vec<String> {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(n)
        .map(str::to_ascii_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Script, String> {
        Script::parse("f.sql", text, ScriptKind::Up)
    }

    #[test]
    fn header_sets_no_transaction() {
        let s = parse(
            "-- adds an index\n-- mantis: no-transaction\n\nCREATE INDEX CONCURRENTLY i ON t (a);",
        )
        .unwrap();
        assert!(!s.options.transactional);
        assert_eq!(s.mode(), "no-transaction");
        assert_eq!(s.statements.len(), 1);
        assert_eq!(s.statements[0].line, 4);
    }

    #[test]
    fn options_below_the_header_are_ignored() {
        let s = parse("select 1;\n-- mantis: no-transaction\n").unwrap();
        assert!(s.options.transactional);
    }

    #[test]
    fn unknown_header_options_are_errors() {
        let err = parse("-- mantis: no-transactoin\nselect 1;").unwrap_err();
        assert!(
            err.contains("unknown header option `no-transactoin`"),
            "{err}"
        );
        assert!(err.contains("no-transaction"), "{err}");
    }

    #[test]
    fn concurrent_index_in_transactional_file_is_refused() {
        let err = parse("create table t (a int);\n\ncreate unique index concurrently i on t (a);")
            .unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
        assert!(err.contains("no-transaction"), "{err}");
    }

    #[test]
    fn transaction_control_in_transactional_file_is_refused() {
        assert!(parse("BEGIN;\nselect 1;\nCOMMIT;")
            .unwrap_err()
            .contains("line 1"));
        assert!(parse("-- mantis: no-transaction\nBEGIN;\nselect 1;\nCOMMIT;").is_ok());
    }

    #[test]
    fn plain_statements_pass() {
        assert!(
            parse("create index i on t (a); refresh materialized view concurrently v;").is_ok()
        );
    }
}
