//! A SQL file as lint reads it: its statements, classified, with where each
//! is in the file and whether it runs inside a transaction.

use mantis_migrate::{split_statements, Script, ScriptKind};

use crate::statement::{classify, Classified};
use crate::walk;

/// What a file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `NNN_name.up.sql`.
    Up,
    /// `NNN_name.down.sql`: a rollback.
    Down,
    /// `NNN_name.verify.sql`: mantis runs it in a transaction it rolls back.
    Verify,
    /// Any other `.sql` file (a hand-run script).
    Script,
}

impl FileKind {
    /// From a file name.
    pub fn of(name: &str) -> FileKind {
        if name.ends_with(".up.sql") {
            FileKind::Up
        } else if name.ends_with(".down.sql") {
            FileKind::Down
        } else if name.ends_with(".verify.sql") {
            FileKind::Verify
        } else {
            FileKind::Script
        }
    }
}

/// One statement of a file.
#[derive(Debug, Clone)]
pub struct Stmt {
    /// 0-based index in its file.
    pub index: usize,
    /// 1-based line where it starts.
    pub line: usize,
    /// Byte offset in the file where it starts.
    pub offset: usize,
    /// Its text.
    pub sql: String,
    /// What the parser made of it.
    pub c: Classified,
    /// Whether it runs inside a transaction (the runner's, or BEGIN … COMMIT).
    pub in_transaction: bool,
    /// Whether mantis runs it in batches (`-- mantis: batch …`).
    pub batched: bool,
    /// Its PL/pgSQL body, parsed on first use (`plpgsql::body`).
    pub(crate) body: std::cell::OnceCell<Option<crate::plpgsql::Body>>,
}

impl Stmt {
    /// The statement's first line, trimmed.
    pub fn excerpt(&self) -> String {
        self.sql.lines().next().unwrap_or("").trim().to_string()
    }

    /// The last line of the statement.
    pub fn end_line(&self) -> usize {
        self.line + self.sql.matches('\n').count()
    }
}

/// A file to lint.
#[derive(Debug, Clone)]
pub struct SqlFile {
    /// As given (shown in findings).
    pub path: String,
    /// Full text.
    pub text: String,
    /// Up, down, verify or plain script.
    pub kind: FileKind,
    /// Whether mantis wraps the whole file in one transaction.
    pub transactional: bool,
    /// Its statements.
    pub statements: Vec<Stmt>,
    /// Why mantis would refuse to run the file, if it would.
    pub refused: Option<String>,
}

impl SqlFile {
    /// Reads a file's text. Never fails: what mantis's loader refuses is kept
    /// in `refused` (and reported as a finding), and the statements are
    /// still read when the text can be split.
    pub fn read(path: &str, text: &str) -> SqlFile {
        let kind = FileKind::of(path);
        let script_kind = match kind {
            FileKind::Down => ScriptKind::Down,
            FileKind::Verify => ScriptKind::Verify,
            _ => ScriptKind::Up,
        };
        let (statements, transactional, batches, refused) =
            match Script::parse(path, text, script_kind) {
                Ok(s) => {
                    let batched = s.batches.iter().map(Option::is_some).collect();
                    (s.statements, s.options.transactional, batched, None)
                }
                Err(e) => {
                    let statements = split_statements(text).unwrap_or_default();
                    let transactional = !header_says_no_transaction(text);
                    (statements, transactional, Vec::new(), Some(e))
                }
            };
        let mut offset = 0;
        let mut in_block = false;
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, s)| {
                offset = text[offset..].find(&s.sql).map_or(offset, |at| offset + at);
                let c = classify(&s.sql);
                let in_transaction = transactional || in_block || opens(&c);
                in_block = next_block(in_block, &c);
                Stmt {
                    index,
                    line: s.line,
                    offset,
                    sql: s.sql,
                    c,
                    in_transaction,
                    batched: batches.get(index).copied().unwrap_or(false),
                    body: std::cell::OnceCell::new(),
                }
            })
            .collect();
        SqlFile {
            path: path.to_string(),
            text: text.to_string(),
            kind,
            transactional,
            statements,
            refused,
        }
    }

    /// The file line and column of byte `offset` within statement `stmt`.
    pub fn position(&self, stmt: &Stmt, offset: Option<usize>) -> (usize, usize) {
        let mut at = (stmt.offset + offset.unwrap_or(0)).min(self.text.len());
        // Locations are byte offsets; never cut a character in two.
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    /// Whether `table` is created by a statement of this file before `index`.
    pub fn created_before(&self, table: &str, index: usize) -> Option<&Stmt> {
        self.statements[..index.min(self.statements.len())]
            .iter()
            .find(|s| created_table(&s.c).is_some_and(|t| walk::same_relation(&t, table)))
    }

    /// Whether `table` existed before this file: no statement before
    /// `index` creates it (a table made here has no readers or rows yet).
    pub fn is_existing(&self, table: &str, index: usize) -> bool {
        self.created_before(table, index).is_none()
    }

    /// The statements after `index`.
    pub fn after(&self, index: usize) -> &[Stmt] {
        self.statements.get(index + 1..).unwrap_or(&[])
    }

    /// Whether this is a validation script: a verify file, or a script whose
    /// name says it validates or verifies.
    pub fn is_validation(&self) -> bool {
        let name = self
            .path
            .rsplit('/')
            .next()
            .unwrap_or(&self.path)
            .to_lowercase();
        self.kind == FileKind::Verify
            || (self.kind == FileKind::Script
                && ["validat", "verify", "verification"]
                    .iter()
                    .any(|w| name.contains(w)))
    }
}

/// The table a statement creates (CREATE TABLE, CREATE TABLE AS,
/// CREATE MATERIALIZED VIEW), if it creates one.
pub fn created_table(c: &Classified) -> Option<String> {
    match c.kind.as_str() {
        "CreateStmt" => Some(walk::range_var(c.get("relation"))),
        "CreateTableAsStmt" => Some(walk::range_var(&c.get("into")["rel"])),
        _ => None,
    }
}

fn header_says_no_transaction(text: &str) -> bool {
    text.lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
        .any(|l| l.contains("mantis:") && l.contains("no-transaction"))
}

fn transaction_kind(c: &Classified) -> Option<i64> {
    c.is("TransactionStmt")
        .then(|| c.get("kind").as_i64())
        .flatten()
}

fn opens(c: &Classified) -> bool {
    use pg_query::protobuf::TransactionStmtKind as K;
    let k = transaction_kind(c);
    k == Some(K::TransStmtBegin as i64) || k == Some(K::TransStmtStart as i64)
}

fn next_block(in_block: bool, c: &Classified) -> bool {
    use pg_query::protobuf::TransactionStmtKind as K;
    let closes = [
        K::TransStmtCommit,
        K::TransStmtRollback,
        K::TransStmtPrepare,
    ]
    .iter()
    .any(|k| transaction_kind(c) == Some(*k as i64));
    (in_block || opens(c)) && !closes
}
