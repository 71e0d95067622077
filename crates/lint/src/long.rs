//! Very long statements, summarised before they are parsed: a data
//! migration's `INSERT … VALUES` of a few megabytes would otherwise become a
//! parse tree, and a JSON copy of it, of about a thousand times its size.
//! What lint, plan and rehearse ask of a statement (its kind, its table, the
//! lock it takes, its clauses) is in its first row; the other rows are data.

/// Statements longer than this (bytes) are summarised when they can be.
pub const LONG: usize = 64 * 1024;

/// `INSERT … VALUES (first row), (…), … [tail]` as `INSERT … VALUES (first
/// row) [tail]`, when `sql` is such a statement (VALUES at the top level,
/// followed by parenthesised rows); else None.
pub fn values_summary(sql: &str) -> Option<String> {
    let bytes = sql.as_bytes();
    let values = top_level_keyword(sql, "values")?;
    let mut at = skip_space(bytes, values + "values".len());
    let first_end = group_end(sql, at)?;
    at = first_end;
    loop {
        let next = skip_space(bytes, at);
        if bytes.get(next) != Some(&b',') {
            break;
        }
        let open = skip_space(bytes, next + 1);
        let Some(end) = group_end(sql, open) else {
            break;
        };
        at = end;
    }
    Some(format!("{} {}", &sql[..first_end], &sql[at..]))
}

/// Where `keyword` (lower case) first stands as a word outside quotes,
/// comments and parentheses.
fn top_level_keyword(sql: &str, keyword: &str) -> Option<usize> {
    let bytes = sql.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b'\'' | b'"' | b'$' | b'-' | b'/' => {
                if let Some(end) = skip_quoted(sql, i) {
                    i = end;
                    continue;
                }
            }
            c if depth == 0 && c.is_ascii_alphabetic() && !ident_char(bytes, i.wrapping_sub(1)) => {
                let end = (i..bytes.len())
                    .find(|&j| !ident_char(bytes, j))
                    .unwrap_or(bytes.len());
                if sql[i..end].eq_ignore_ascii_case(keyword) {
                    return Some(i);
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The position after the parenthesised group that opens at `open`.
fn group_end(sql: &str, open: usize) -> Option<usize> {
    let bytes = sql.as_bytes();
    if bytes.get(open) != Some(&b'(') {
        return None;
    }
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'\'' | b'"' | b'$' | b'-' | b'/' => {
                if let Some(end) = skip_quoted(sql, i) {
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Past a string, quoted name, dollar-quoted text or comment starting at
/// `i`; None when none starts there.
fn skip_quoted(sql: &str, i: usize) -> Option<usize> {
    let bytes = sql.as_bytes();
    let rest = &sql[i..];
    if rest.starts_with("--") {
        return Some(rest.find('\n').map_or(sql.len(), |n| i + n + 1));
    }
    if let Some(body) = rest.strip_prefix("/*") {
        return Some(body.find("*/").map_or(sql.len(), |n| i + 2 + n + 2));
    }
    match bytes[i] {
        b'\'' => {
            // E'…' strings take backslash escapes; '' is a quote in any string.
            let escapes = i > 0
                && matches!(bytes[i - 1], b'e' | b'E')
                && !ident_char(bytes, i.wrapping_sub(2));
            let mut j = i + 1;
            while j < bytes.len() {
                match bytes[j] {
                    b'\\' if escapes => j += 2,
                    b'\'' if bytes.get(j + 1) == Some(&b'\'') => j += 2,
                    b'\'' => return Some(j + 1),
                    _ => j += 1,
                }
            }
            Some(bytes.len())
        }
        b'"' => Some(rest[1..].find('"').map_or(sql.len(), |n| i + 1 + n + 1)),
        b'$' => {
            let close = rest[1..].find(|c: char| !(c.is_alphanumeric() || c == '_'))? + 1;
            if rest.as_bytes().get(close) != Some(&b'$') || ident_char(bytes, i.wrapping_sub(1)) {
                return None;
            }
            let tag = &rest[..=close];
            Some(
                rest[tag.len()..]
                    .find(tag)
                    .map_or(sql.len(), |n| i + tag.len() + n + tag.len()),
            )
        }
        _ => None,
    }
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

fn ident_char(bytes: &[u8], i: usize) -> bool {
    bytes
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_values_list_keeps_its_first_row_and_its_tail() {
        assert_eq!(
            values_summary(
                "INSERT INTO core.t (a, b) VALUES (1, 'x, (y)'), (2, $$)$$) , (3, E'\\')') \
                 ON CONFLICT (a) DO NOTHING RETURNING a;"
            )
            .as_deref(),
            Some("INSERT INTO core.t (a, b) VALUES (1, 'x, (y)')  ON CONFLICT (a) DO NOTHING RETURNING a;")
        );
    }

    #[test]
    fn values_inside_parentheses_or_words_are_not_a_list() {
        assert_eq!(
            values_summary("INSERT INTO t SELECT * FROM (VALUES (1), (2)) v;"),
            None
        );
        assert_eq!(values_summary("UPDATE t SET my_values = 1;"), None);
        assert_eq!(
            values_summary("-- VALUES (1)\nINSERT INTO t VALUES (1);").as_deref(),
            Some("-- VALUES (1)\nINSERT INTO t VALUES (1) ;")
        );
    }

    #[test]
    fn a_long_insert_is_classified_from_its_summary() {
        let rows: Vec<String> = (0..20_000).map(|i| format!("({i}, 'row {i}')")).collect();
        let sql = format!("INSERT INTO core.t (a, b) VALUES {};", rows.join(", "));
        assert!(sql.len() > LONG);
        let c = crate::statement::classify(&sql);
        assert_eq!(c.summarised, Some(sql.len()));
        assert!(c.is("InsertStmt"), "{}", c.kind);
        assert_eq!(c.parsed_statements, 1);
        assert!(
            c.locks.iter().any(|l| l.table == "core.t"),
            "the table's lock is still known: {:?}",
            c.locks
        );
        let short = crate::statement::classify("INSERT INTO core.t (a) VALUES (1), (2);");
        assert_eq!(short.summarised, None);
    }
}
