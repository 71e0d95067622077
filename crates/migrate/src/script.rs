//! One SQL file of a migration: its header options and its statements.

use std::time::Duration;

use crate::batch::{self, BatchOrder, BatchSpec};
use crate::split::{split_statements, Statement};
use crate::types::Checksum;

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
    /// `lock_timeout` for this file's statements and batches, instead of the
    /// run's (`--lock-timeout`): a file written for a busy database knows how
    /// long its DDL may keep others queued.
    pub lock_timeout: Option<Duration>,
    /// Lock-timeout retries for this file, instead of the run's (`--lock-retries`).
    pub lock_retries: Option<u32>,
}

impl Default for ScriptOptions {
    fn default() -> Self {
        ScriptOptions {
            transactional: true,
            lock_timeout: None,
            lock_retries: None,
        }
    }
}

/// Header options the engine understands, with what they do.
pub const KNOWN_OPTIONS: &[(&str, &str)] = &[
    (
        "no-transaction",
        "run each statement on its own, outside a transaction (needed for CREATE INDEX CONCURRENTLY)",
    ),
    (
        "lock-timeout=MSms",
        "lock_timeout of this file's statements and batches (overrides --lock-timeout)",
    ),
    (
        "lock-retries=N",
        "lock-timeout retries for this file (overrides --lock-retries)",
    ),
];

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
    /// For each statement, how it is batched (`-- mantis: batch …` on the
    /// line above it), or None for a statement run once.
    pub batches: Vec<Option<BatchSpec>>,
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
        check_copy_from_stdin(&statements)?;
        if !options.transactional && kind != ScriptKind::Verify {
            check_blocks(&statements)?;
        }
        let batches = batch_directives(text, &statements)?;
        check_batches(&statements, &batches, options.transactional)?;
        Ok(Script {
            path: path.to_string(),
            sql: text.to_string(),
            checksum: Checksum::of(text.as_bytes()),
            kind,
            options,
            statements,
            batches,
        })
    }

    /// How statement `index` is batched, if it is.
    pub fn batch(&self, index: usize) -> Option<&BatchSpec> {
        self.batches.get(index).and_then(Option::as_ref)
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
        if rest.starts_with(batch::DIRECTIVE) {
            continue; // a batched first statement's directive, read with it
        }
        for option in list.split([',', ' ']).filter(|o| !o.is_empty()) {
            apply_option(&mut options, option)?;
        }
    }
    Ok(options)
}

fn apply_option(options: &mut ScriptOptions, option: &str) -> Result<(), String> {
    let invalid = |what: &str| format!("header option `{option}`: {what}");
    match option.split_once('=') {
        Some(("lock-timeout", value)) => {
            let ms = value
                .strip_suffix("ms")
                .and_then(|n| n.parse::<u64>().ok())
                .filter(|ms| *ms > 0)
                .ok_or_else(|| invalid("expected milliseconds, e.g. lock-timeout=50ms"))?;
            options.lock_timeout = Some(Duration::from_millis(ms));
            return Ok(());
        }
        Some(("lock-retries", value)) => {
            let n = value
                .parse::<u32>()
                .map_err(|_| invalid("expected a number, e.g. lock-retries=20"))?;
            options.lock_retries = Some(n);
            return Ok(());
        }
        _ => {}
    }
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

/// The `-- mantis: batch …` line among the comment lines right above each
/// statement, parsed.
fn batch_directives(
    text: &str,
    statements: &[Statement],
) -> Result<Vec<Option<BatchSpec>>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut after_previous = 0;
    let mut batches = Vec::with_capacity(statements.len());
    for statement in statements {
        let above = lines
            .get(after_previous..statement.line.saturating_sub(1))
            .unwrap_or_default();
        let mut spec = None;
        for (offset, line) in above.iter().enumerate() {
            let directive = line
                .trim()
                .strip_prefix("--")
                .map(str::trim)
                .and_then(|l| l.strip_prefix(batch::DIRECTIVE));
            if let Some(words) = directive {
                let line_no = after_previous + offset + 1;
                spec = Some(BatchSpec::parse(words).map_err(|e| format!("line {line_no}: {e}"))?);
            }
        }
        batches.push(spec);
        after_previous = statement.line - 1 + statement.sql.lines().count();
    }
    Ok(batches)
}

/// A batched statement commits batch by batch: it cannot live in a
/// transactional file or inside an explicit `BEGIN … COMMIT` block.
fn check_batches(
    statements: &[Statement],
    batches: &[Option<BatchSpec>],
    transactional: bool,
) -> Result<(), String> {
    let mut in_block = false;
    for (statement, spec) in statements.iter().zip(batches) {
        if let Some(spec) = spec {
            if transactional {
                return Err(format!(
                    "line {}: a batched statement commits batch by batch; mark the file \
                     `-- mantis: no-transaction`",
                    statement.line
                ));
            }
            if in_block {
                return Err(format!(
                    "line {}: a batched statement commits batch by batch; move it out of \
                     its BEGIN … COMMIT block",
                    statement.line
                ));
            }
            if let Some(missing) = missing_bound(spec, &statement.sql) {
                return Err(format!(
                    "line {}: a batched statement must bound its rows by \
                     current_setting('{missing}'): without it every batch runs over the \
                     whole table (docs/migrations.md, \"Batched statements\")",
                    statement.line
                ));
            }
        }
        in_block = next_block_state(in_block, statement);
    }
    Ok(())
}

/// The first batch bound the statement does not read, if any: the key
/// bounds always, the page bounds with `order=physical`.
fn missing_bound(spec: &BatchSpec, sql: &str) -> Option<&'static str> {
    let mut bounds = vec!["mantis.batch_first", "mantis.batch_last"];
    if spec.order == BatchOrder::Physical {
        bounds.extend(["mantis.batch_first_ctid", "mantis.batch_last_ctid"]);
    }
    bounds
        .into_iter()
        .find(|bound| !sql.contains(&format!("'{bound}'")))
}

/// `COPY … FROM STDIN` reads the lines after it in psql; mantis sends
/// statements only, so the data would never arrive.
fn check_copy_from_stdin(statements: &[Statement]) -> Result<(), String> {
    for statement in statements {
        let words = leading_words(&statement.sql, 64);
        if words.first().is_some_and(|w| w == "copy")
            && words.windows(2).any(|w| w[0] == "from" && w[1] == "stdin")
        {
            return Err(format!(
                "line {}: COPY … FROM STDIN needs psql's inline data, which mantis does not \
                 send; load the rows with INSERT, or COPY FROM a file on the server",
                statement.line
            ));
        }
    }
    Ok(())
}

/// In a no-transaction file, every explicit block ends in the file: a block
/// left open would be committed or rolled back by whatever ran next.
fn check_blocks(statements: &[Statement]) -> Result<(), String> {
    let mut opened: Option<usize> = None;
    for statement in statements {
        let now_open = next_block_state(opened.is_some(), statement);
        match (opened, now_open) {
            (Some(at), true) if opens_block(statement) => {
                return Err(format!(
                    "line {}: BEGIN inside the block opened at line {at}; end that block first \
                     (COMMIT)",
                    statement.line
                ));
            }
            (None, true) => opened = Some(statement.line),
            (_, false) => opened = None,
            (Some(_), true) => {}
        }
    }
    match opened {
        Some(at) => Err(format!(
            "line {at}: BEGIN has no COMMIT before the end of the file; end the block \
             (COMMIT) in the file that opens it"
        )),
        None => Ok(()),
    }
}

fn opens_block(statement: &Statement) -> bool {
    let words = leading_words(&statement.sql, 2);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    matches!(words.as_slice(), ["begin", ..] | ["start", "transaction"])
}

/// Tracks explicit transaction blocks inside a no-transaction file.
pub(crate) fn next_block_state(in_block: bool, statement: &Statement) -> bool {
    let words = leading_words(&statement.sql, 2);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["begin", ..] | ["start", "transaction"] => true,
        ["commit" | "end" | "rollback" | "abort", ..] => false,
        _ => in_block,
    }
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
    fn blocks_must_end_in_their_file_and_copy_from_stdin_is_refused() {
        let open = parse("-- mantis: no-transaction\nSELECT 1;\nBEGIN;\nSELECT 2;").unwrap_err();
        assert!(open.contains("line 3: BEGIN has no COMMIT"), "{open}");
        let nested = parse("-- mantis: no-transaction\nBEGIN;\nBEGIN;\nCOMMIT;").unwrap_err();
        assert!(
            nested.contains("line 3: BEGIN inside the block opened at line 2"),
            "{nested}"
        );
        assert!(
            parse("-- mantis: no-transaction\nBEGIN;\nSELECT 1;\nROLLBACK;\nBEGIN;\nCOMMIT;")
                .is_ok()
        );
        let copy = parse("CREATE TABLE t (a int);\nCOPY t (a) FROM stdin;").unwrap_err();
        assert!(copy.contains("line 2: COPY … FROM STDIN"), "{copy}");
        assert!(parse("COPY t FROM '/srv/t.csv';").is_ok());
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
    fn header_sets_lock_timeout_and_retries() {
        let s = parse("-- mantis: no-transaction, lock-timeout=50ms, lock-retries=30\nselect 1;")
            .unwrap();
        assert_eq!(s.options.lock_timeout, Some(Duration::from_millis(50)));
        assert_eq!(s.options.lock_retries, Some(30));
        assert!(parse("-- mantis: lock-timeout=5s\nselect 1;")
            .unwrap_err()
            .contains("expected milliseconds"));
        assert!(parse("-- mantis: lock-retries=many\nselect 1;")
            .unwrap_err()
            .contains("expected a number"));
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
    fn batch_directives_belong_to_the_statement_below() {
        let s = parse(
            "-- mantis: no-transaction\n\
             select 1;\n\
             -- the backfill\n\
             -- mantis: batch table=core.t key=id rows=10\n\
             update core.t set a = 1 where id between current_setting('mantis.batch_first')::int\n\
                                          and current_setting('mantis.batch_last')::int;\n\
             select 2;",
        )
        .unwrap();
        assert_eq!(s.batches.len(), 3);
        assert!(s.batch(0).is_none() && s.batch(2).is_none());
        assert_eq!(s.batch(1).unwrap().rows, 10);
    }

    #[test]
    fn batches_need_a_no_transaction_file_and_no_block() {
        let err = parse("-- mantis: batch table=t key=id\nupdate t set a = 1;").unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("no-transaction"),
            "{err}"
        );
        let err = parse(
            "-- mantis: no-transaction\nBEGIN;\n-- mantis: batch table=t key=id\nupdate t set a = 1;\nCOMMIT;",
        )
        .unwrap_err();
        assert!(
            err.contains("line 4") && err.contains("BEGIN … COMMIT"),
            "{err}"
        );
        let err = parse(
            "-- mantis: no-transaction\nselect 1;\n-- mantis: batch table=t\nupdate t set a = 1;",
        )
        .unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
    }

    #[test]
    fn a_batched_statement_must_read_its_bounds() {
        let file = |directive: &str, filter: &str| {
            format!("-- mantis: no-transaction\n-- mantis: batch table=t key=id {directive}\nupdate t set a = 1 {filter};")
        };
        let keys = "where id between current_setting('mantis.batch_first')::int \
                    and current_setting('mantis.batch_last')::int";
        let pages = "and ctid between current_setting('mantis.batch_first_ctid')::tid \
                     and current_setting('mantis.batch_last_ctid')::tid";
        let err = parse(&file("", "")).unwrap_err();
        assert!(
            err.contains("line 3") && err.contains("current_setting('mantis.batch_first')"),
            "{err}"
        );
        assert!(parse(&file("", keys)).is_ok());
        let err = parse(&file("order=physical", keys)).unwrap_err();
        assert!(err.contains("mantis.batch_first_ctid"), "{err}");
        assert!(parse(&file("order=physical", &format!("{keys} {pages}"))).is_ok());
    }

    #[test]
    fn explicit_blocks_are_tracked_until_they_end() {
        let st = |sql: &str| Statement {
            sql: sql.into(),
            line: 1,
        };
        assert!(next_block_state(false, &st("BEGIN")));
        assert!(next_block_state(true, &st("insert into t values (1)")));
        assert!(!next_block_state(true, &st("COMMIT")));
        assert!(!next_block_state(
            false,
            &st("create index concurrently i on t (a)")
        ));
    }

    #[test]
    fn plain_statements_pass() {
        assert!(
            parse("create index i on t (a); refresh materialized view concurrently v;").is_ok()
        );
    }
}
