//! The one place identifiers are quoted for SQL text. Anything spliced into SQL
//! with `format!` must go through [`quote_ident`], so such spots are easy to find.

/// Quotes an identifier the way PostgreSQL's `quote_ident` does: always wraps
/// it in double quotes and doubles any double quote inside.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an identifier for SQL shown to people: as written when PostgreSQL
/// reads it back unchanged (lower case letters, digits, `_`, not starting
/// with a digit, not a reserved word commonly used as a name), else as
/// [`quote_ident`] does. `Post_authorId_fkey` and `user` come back quoted.
pub fn quote_ident_readable(name: &str) -> String {
    const RESERVED: &[&str] = &[
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "current_user",
        "default",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "for",
        "foreign",
        "from",
        "grant",
        "group",
        "having",
        "in",
        "into",
        "leading",
        "limit",
        "not",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "primary",
        "references",
        "select",
        "session_user",
        "some",
        "table",
        "then",
        "to",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "when",
        "where",
        "with",
    ];
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && !RESERVED.contains(&name) {
        name.to_string()
    } else {
        quote_ident(name)
    }
}

/// Quotes a string literal (single quotes doubled), for the few statements that
/// take no parameters, such as `COMMENT ON DATABASE`.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(quote_ident("core"), "\"core\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_ident_readable("bare"), "bare");
        assert_eq!(
            quote_ident_readable("Post_authorId_fkey"),
            "\"Post_authorId_fkey\""
        );
        assert_eq!(quote_ident_readable("user"), "\"user\"");
        assert_eq!(quote_ident_readable("1st"), "\"1st\"");
    }
}
