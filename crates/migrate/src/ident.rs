//! The one place identifiers are quoted for SQL text. Anything spliced into SQL
//! with `format!` must go through [`quote_ident`], so such spots are easy to find.

/// Quotes an identifier the way PostgreSQL's `quote_ident` does: always wraps
/// it in double quotes and doubles any double quote inside.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
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
    }
}
