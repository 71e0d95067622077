//! Splitting a SQL file into statements the way `psql` does.
//!
//! A semicolon ends a statement only outside string literals (`'…'`, `E'…'`),
//! quoted identifiers (`"…"`), dollar-quoted bodies (`$tag$…$tag$`), comments
//! (`-- …`, nested `/* … */`) and SQL-standard function bodies
//! (`CREATE FUNCTION … BEGIN ATOMIC … END`). Each statement keeps the line on
//! which it starts so that server errors can be reported as `file:line`.

use thiserror::Error;

/// One statement of a SQL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement text, from its first token to just before its `;`.
    pub sql: String,
    /// 1-based line of the file on which the statement starts.
    pub line: usize,
}

/// Why a file could not be split.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SplitError {
    /// A quote, dollar quote or block comment was still open at end of file.
    #[error("unterminated {what} starting on line {line}")]
    Unterminated {
        /// What was left open, e.g. "string literal".
        what: &'static str,
        /// 1-based line where it started.
        line: usize,
    },
    /// A psql meta-command (`\set`, `\i`, …) which only psql understands.
    #[error("psql meta-command `{command}` on line {line} is not supported; write plain SQL")]
    MetaCommand {
        /// The meta-command as written.
        command: String,
        /// 1-based line.
        line: usize,
    },
}

/// Splits `text` into its statements, skipping empty ones.
///
/// # Errors
/// [`SplitError`] when a literal or comment is left open, or a psql
/// meta-command is found at the start of a statement.
pub fn split_statements(text: &str) -> Result<Vec<Statement>, SplitError> {
    Scanner::new(text).run()
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    out: Vec<Statement>,
    /// Byte offset and line of the first significant token of the current statement.
    start: Option<(usize, usize)>,
    /// Words seen at the start of the current statement (to spot CREATE FUNCTION).
    leading_words: Vec<String>,
    /// BEGIN … END nesting inside a SQL-standard function body.
    atomic_depth: usize,
    /// Open parentheses: as in psql, a semicolon inside them ends nothing
    /// (`CREATE RULE … DO ALSO (INSERT …; INSERT …)`).
    paren_depth: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            out: Vec::new(),
            start: None,
            leading_words: Vec::new(),
            atomic_depth: 0,
            paren_depth: 0,
        }
    }

    fn run(mut self) -> Result<Vec<Statement>, SplitError> {
        while self.pos < self.bytes.len() {
            self.step()?;
        }
        self.finish_statement(self.bytes.len());
        Ok(self.out)
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn advance(&mut self, n: usize) {
        for _ in 0..n {
            if self.bytes.get(self.pos) == Some(&b'\n') {
                self.line += 1;
            }
            self.pos += 1;
        }
    }

    fn mark_start(&mut self) {
        if self.start.is_none() {
            self.start = Some((self.pos, self.line));
        }
    }

    fn step(&mut self) -> Result<(), SplitError> {
        let c = self.bytes[self.pos];
        match c {
            b'-' if self.peek(1) == Some(b'-') => self.skip_line_comment(),
            b'/' if self.peek(1) == Some(b'*') => self.skip_block_comment()?,
            b'\'' => {
                self.mark_start();
                let escapes = self.is_escape_string_prefix();
                self.skip_quoted(b'\'', escapes, "string literal")?;
            }
            b'"' => {
                self.mark_start();
                self.skip_quoted(b'"', false, "quoted identifier")?;
            }
            b'$' => {
                self.mark_start();
                self.dollar()?;
            }
            b'(' => {
                self.mark_start();
                self.paren_depth += 1;
                self.advance(1);
            }
            b')' => {
                self.mark_start();
                self.paren_depth = self.paren_depth.saturating_sub(1);
                self.advance(1);
            }
            b';' if self.atomic_depth == 0 && self.paren_depth == 0 => {
                self.finish_statement(self.pos);
                self.advance(1);
            }
            b'\\' if self.start.is_none() => return Err(self.meta_command()),
            c if c.is_ascii_whitespace() => self.advance(1),
            c if is_ident_start(c) => {
                self.mark_start();
                self.word();
            }
            _ => {
                self.mark_start();
                self.advance(1);
            }
        }
        Ok(())
    }

    fn finish_statement(&mut self, end: usize) {
        if let Some((start, line)) = self.start.take() {
            let sql = self.text[start..end].trim_end().to_string();
            self.out.push(Statement { sql, line });
        }
        self.leading_words.clear();
        self.atomic_depth = 0;
        self.paren_depth = 0;
    }

    fn skip_line_comment(&mut self) {
        while let Some(c) = self.peek(0) {
            if c == b'\n' {
                break;
            }
            self.advance(1);
        }
    }

    fn skip_block_comment(&mut self) -> Result<(), SplitError> {
        let line = self.line;
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            if self.peek(0) == Some(b'/') && self.peek(1) == Some(b'*') {
                depth += 1;
                self.advance(2);
            } else if self.peek(0) == Some(b'*') && self.peek(1) == Some(b'/') {
                depth -= 1;
                self.advance(2);
                if depth == 0 {
                    return Ok(());
                }
            } else {
                self.advance(1);
            }
        }
        Err(SplitError::Unterminated {
            what: "block comment",
            line,
        })
    }

    /// `E'…'` (or `e'…'`) allows backslash escapes; the E must not end a longer word.
    fn is_escape_string_prefix(&self) -> bool {
        if self.pos == 0 || !matches!(self.bytes[self.pos - 1], b'e' | b'E') {
            return false;
        }
        self.pos < 2 || !is_ident_char(self.bytes[self.pos - 2])
    }

    fn skip_quoted(
        &mut self,
        quote: u8,
        backslash_escapes: bool,
        what: &'static str,
    ) -> Result<(), SplitError> {
        let line = self.line;
        self.advance(1);
        while let Some(c) = self.peek(0) {
            let escaped = backslash_escapes && c == b'\\';
            if escaped || (c == quote && self.peek(1) == Some(quote)) {
                self.advance(2);
            } else if c == quote {
                self.advance(1);
                return Ok(());
            } else {
                self.advance(1);
            }
        }
        Err(SplitError::Unterminated { what, line })
    }

    /// A `$` starts a dollar quote (`$$`, `$tag$`) unless it is a parameter (`$1`)
    /// or part of an identifier (`a$b`).
    fn dollar(&mut self) -> Result<(), SplitError> {
        if self.pos > 0 && is_ident_char(self.bytes[self.pos - 1]) {
            self.advance(1);
            return Ok(());
        }
        let Some(tag_len) = self.dollar_tag_len() else {
            self.advance(1);
            return Ok(());
        };
        let tag = &self.text[self.pos..self.pos + tag_len].to_string();
        let line = self.line;
        self.advance(tag_len);
        match self.text[self.pos..].find(tag.as_str()) {
            Some(offset) => {
                self.advance(offset + tag_len);
                Ok(())
            }
            None => Err(SplitError::Unterminated {
                what: "dollar-quoted string",
                line,
            }),
        }
    }

    /// Length of a dollar-quote opening tag at the cursor (`$$` = 2, `$ab$` = 4).
    fn dollar_tag_len(&self) -> Option<usize> {
        let rest = &self.bytes[self.pos + 1..];
        let first = *rest.first()?;
        if first == b'$' {
            return Some(2);
        }
        if !is_ident_start(first) {
            return None;
        }
        let body = rest.iter().take_while(|c| is_tag_char(**c)).count();
        (rest.get(body) == Some(&b'$')).then_some(body + 2)
    }

    fn word(&mut self) {
        let begin = self.pos;
        while self.peek(0).is_some_and(is_ident_char) {
            self.advance(1);
        }
        let word = self.text[begin..self.pos].to_ascii_lowercase();
        self.track_atomic_body(&word);
        if self.leading_words.len() < 4 {
            self.leading_words.push(word);
        }
    }

    /// psql's rule: inside CREATE FUNCTION/PROCEDURE, BEGIN (and CASE within it)
    /// opens a block that END closes; semicolons inside do not end the statement.
    fn track_atomic_body(&mut self, word: &str) {
        match word {
            "begin" if self.is_routine_definition() => self.atomic_depth += 1,
            "case" if self.atomic_depth > 0 => self.atomic_depth += 1,
            "end" if self.atomic_depth > 0 => self.atomic_depth -= 1,
            _ => {}
        }
    }

    fn is_routine_definition(&self) -> bool {
        let words: Vec<&str> = self.leading_words.iter().map(String::as_str).collect();
        matches!(
            words.as_slice(),
            ["create", "function" | "procedure", ..]
                | ["create", "or", "replace", "function" | "procedure", ..]
        )
    }

    fn meta_command(&self) -> SplitError {
        let command = self.text[self.pos..]
            .split_whitespace()
            .next()
            .unwrap_or("\\")
            .to_string();
        SplitError::MetaCommand {
            command,
            line: self.line,
        }
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_ident_char(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit() || c == b'$'
}

fn is_tag_char(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqls(text: &str) -> Vec<String> {
        split_statements(text)
            .unwrap()
            .into_iter()
            .map(|s| s.sql)
            .collect()
    }

    #[test]
    fn a_semicolon_inside_parentheses_ends_nothing_as_in_psql() {
        let text = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); \
                    INSERT INTO b VALUES (2));\nselect (1);";
        assert_eq!(
            sqls(text),
            [
                "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); \
                 INSERT INTO b VALUES (2))",
                "select (1)"
            ]
        );
        // An unbalanced ')' does not hide the semicolons after it.
        assert_eq!(sqls("select 1); select 2;"), ["select 1)", "select 2"]);
    }

    #[test]
    fn splits_on_top_level_semicolons_only() {
        let text = "select 1; select 'a;b'; select \"x;y\" from t;";
        assert_eq!(
            sqls(text),
            ["select 1", "select 'a;b'", "select \"x;y\" from t"]
        );
    }

    #[test]
    fn keeps_dollar_quoted_bodies_whole() {
        let text = "create function f() returns int as $body$ begin; return 1; end $body$ language plpgsql;\nselect $$;$$;";
        let got = sqls(text);
        assert_eq!(got.len(), 2);
        assert!(got[0].ends_with("language plpgsql"));
        assert_eq!(got[1], "select $$;$$");
    }

    #[test]
    fn nested_dollar_tags_do_not_close_the_outer_quote() {
        let text = "do $outer$ begin execute $in$ select 1; $in$; end $outer$; select 2";
        assert_eq!(sqls(text).len(), 2);
    }

    #[test]
    fn parameters_and_identifiers_with_dollar_are_not_quotes() {
        let text = "prepare p as select $1; select a$b from t;";
        assert_eq!(sqls(text), ["prepare p as select $1", "select a$b from t"]);
    }

    #[test]
    fn comments_hide_semicolons_and_nest() {
        let text = "-- a; b\nselect 1 /* x; /* y; */ z; */ + 1; -- tail;\n";
        assert_eq!(sqls(text), ["select 1 /* x; /* y; */ z; */ + 1"]);
    }

    #[test]
    fn escape_strings_allow_backslash_quote() {
        let text = r"select E'it\'s;' ; select 'it''s;'; select e'\\'; select 1";
        assert_eq!(sqls(text).len(), 4);
    }

    #[test]
    fn standard_strings_treat_backslash_as_a_plain_character() {
        let text = r"select 'a\'; select 2";
        assert_eq!(sqls(text), [r"select 'a\'", "select 2"]);
    }

    #[test]
    fn begin_atomic_bodies_are_one_statement() {
        let text = "create or replace function f() returns int language sql begin atomic select 1; select case when true then 2 end; end;\nbegin;\ncommit;";
        let got = sqls(text);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].ends_with("end"));
        assert_eq!(got[1], "begin");
    }

    #[test]
    fn reports_start_lines() {
        let text = "\n-- header\nselect 1;\n\n  select\n 2;";
        let stmts = split_statements(text).unwrap();
        assert_eq!(stmts[0].line, 3);
        assert_eq!(stmts[1].line, 5);
    }

    #[test]
    fn empty_statements_are_skipped() {
        assert!(sqls(" ; -- only a comment\n ;; ").is_empty());
    }

    #[test]
    fn unterminated_literals_are_errors_with_lines() {
        assert_eq!(
            split_statements("select 1;\nselect 'oops").unwrap_err(),
            SplitError::Unterminated {
                what: "string literal",
                line: 2
            }
        );
        assert!(matches!(
            split_statements("select $x$ body").unwrap_err(),
            SplitError::Unterminated { line: 1, .. }
        ));
        assert!(matches!(
            split_statements("/* open").unwrap_err(),
            SplitError::Unterminated { .. }
        ));
    }

    #[test]
    fn psql_meta_commands_are_rejected() {
        let err = split_statements("select 1;\n\\set ON_ERROR_STOP on\n").unwrap_err();
        assert_eq!(
            err,
            SplitError::MetaCommand {
                command: "\\set".into(),
                line: 2
            }
        );
    }

    #[test]
    fn multibyte_text_is_kept_intact() {
        assert_eq!(
            sqls("insert into b values ('Ünïcode;名前'); select 'ß'"),
            ["insert into b values ('Ünïcode;名前')", "select 'ß'"]
        );
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn fragment() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z ]{1,8}",
                "[a-z;]{0,6}".prop_map(|s| format!("'{s}'")),
                "[a-z;]{0,6}".prop_map(|s| format!("$$ {s} $$")),
                "[a-z;]{0,6}".prop_map(|s| format!("/* {s} */")),
                "[a-z;]{0,6}".prop_map(|s| format!("\"{s}\"")),
            ]
        }

        proptest! {
            /// Joining n statements made of tricky fragments with `;` gives n back, unchanged.
            #[test]
            fn round_trips_statements(stmts in proptest::collection::vec(
                proptest::collection::vec(fragment(), 1..5).prop_map(|f| format!("select {}", f.join(" "))),
                1..6,
            )) {
                let text = stmts.join(";\n");
                let got: Vec<String> = split_statements(&text).unwrap().into_iter().map(|s| s.sql).collect();
                let want: Vec<String> = stmts.iter().map(|s| s.trim_end().to_string()).collect();
                prop_assert_eq!(got, want);
            }
        }
    }
}
