//! Connection strings read exactly as libpq reads them, and written so that
//! libpq (and this module) read them back to the same settings.
//!
//! Two forms (PostgreSQL docs, "Connection Strings", §34.1.1):
//! - URIs, `postgresql://[user[:password]@][host][:port][/dbname][?key=value&…]`
//!   (`postgres://` too). Every part is optional and percent-decoded; the host
//!   may be a bracketed IPv6 address, or empty with the host given as a query
//!   parameter (`postgresql:///db?host=/var/run/postgresql`), or a
//!   percent-encoded socket directory (`postgresql://%2Ftmp/db`). A query
//!   parameter overrides the same setting given earlier in the URI. `+` is not
//!   a space (libpq is not a form decoder). `ssl=true` means `sslmode=require`.
//! - keyword/value strings, `host=h dbname='my db'`, single-quoted values with
//!   backslash escapes.
//!
//! The grammar follows libpq's `conninfo_uri_parse_options` and
//! `conninfo_parse` (src/interfaces/libpq/fe-connect.c). Several hosts in one
//! string (`h1,h2`) are refused with a message, not half-understood. Error
//! messages never contain a value from the string, so a password cannot leak.

use std::collections::BTreeMap;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::ConnectError;

/// Parameters as given, by libpq keyword.
pub(crate) type Params = BTreeMap<String, String>;

/// The parameters a connection string or the environment may set.
pub(crate) const KNOWN_PARAMS: &[&str] = &[
    "host",
    "port",
    "user",
    "password",
    "dbname",
    "sslmode",
    "sslrootcert",
    "channel_binding",
    "application_name",
    "connect_timeout",
    "options",
];

const URI_PREFIXES: &[&str] = &["postgresql://", "postgres://"];

/// Everything but RFC 3986 unreserved characters is percent-encoded in the
/// user, password and database parts.
const PART: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Query values keep `/` and `:` readable (`host=/var/run/postgresql`).
const QUERY_VALUE: &AsciiSet = &PART.remove(b'/').remove(b':');
/// Inside the brackets of an IPv6 address, `:` stays as it is.
const IPV6: &AsciiSet = &PART.remove(b':');

fn invalid(message: impl Into<String>) -> ConnectError {
    ConnectError::InvalidSettings(message.into())
}

/// Parses a URI or a keyword/value string.
///
/// # Errors
/// [`ConnectError::InvalidSettings`] naming what is malformed, never echoing a value.
pub(crate) fn parse(text: &str) -> Result<Params, ConnectError> {
    let params = if let Some(rest) = URI_PREFIXES.iter().find_map(|p| text.strip_prefix(p)) {
        parse_uri(rest)?
    } else if text.contains('=') {
        parse_keywords(text)?
    } else {
        return Err(invalid(
            "the connection string is neither a postgresql:// URL nor `key=value` pairs",
        ));
    };
    check_known(&params)?;
    refuse_multiple_hosts(&params)?;
    Ok(params)
}

fn check_known(params: &Params) -> Result<(), ConnectError> {
    match params.keys().find(|k| !KNOWN_PARAMS.contains(&k.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(invalid(format!(
            "unknown connection parameter `{unknown}` (known: {})",
            KNOWN_PARAMS.join(", ")
        ))),
    }
}

/// libpq tries a list of hosts in turn (`h1,h2`, ports `p1,p2`); mantis
/// migrates one server and says so rather than silently using the first.
pub(crate) fn refuse_multiple_hosts(params: &Params) -> Result<(), ConnectError> {
    for key in ["host", "port"] {
        if params.get(key).is_some_and(|v| v.contains(',')) {
            return Err(invalid(format!(
                "several hosts in one connection string are not supported (`{key}` lists more \
                 than one): give mantis the one server to migrate, e.g. the primary"
            )));
        }
    }
    Ok(())
}

fn parse_uri(rest: &str) -> Result<Params, ConnectError> {
    let mut params = Params::new();
    let netloc = take_credentials(rest, &mut params)?;
    let after = take_hosts(netloc, &mut params)?;
    let query = match after.strip_prefix('/') {
        Some(path) => {
            let (dbname, query) = split_at_char(path, '?');
            store(&mut params, "dbname", &decode(dbname, "the database name")?);
            query
        }
        None => after.strip_prefix('?'),
    };
    if let Some(query) = query {
        parse_query(query, &mut params)?;
    }
    Ok(params)
}

/// `user[:password]@`, recognised only when an `@` comes before any `/`.
fn take_credentials<'a>(rest: &'a str, params: &mut Params) -> Result<&'a str, ConnectError> {
    let Some(at) = rest
        .find(['@', '/'])
        .filter(|&i| rest.as_bytes()[i] == b'@')
    else {
        return Ok(rest);
    };
    let credentials = &rest[..at];
    let (user, password) = split_at_char(credentials, ':');
    store(params, "user", &decode(user, "the user name")?);
    if let Some(password) = password {
        store(params, "password", &decode(password, "the password")?);
    }
    Ok(&rest[at + 1..])
}

/// `host[:port]` pairs separated by commas; returns what follows them.
fn take_hosts<'a>(mut netloc: &'a str, params: &mut Params) -> Result<&'a str, ConnectError> {
    let (mut hosts, mut ports) = (Vec::new(), Vec::new());
    loop {
        let (host, rest) = split_host(netloc)?;
        hosts.push(decode(host, "the host")?);
        let (port, rest) = match rest.strip_prefix(':') {
            Some(r) => {
                let end = r.find(['/', '?', ',']).unwrap_or(r.len());
                (&r[..end], &r[end..])
            }
            None => ("", rest),
        };
        ports.push(decode(port, "the port")?);
        match rest.strip_prefix(',') {
            Some(next) => netloc = next,
            None => {
                store(params, "host", &hosts.join(","));
                store(params, "port", &ports.join(","));
                return Ok(rest);
            }
        }
    }
}

/// One host: a bracketed IPv6 address or everything up to `:`, `/`, `?` or `,`.
fn split_host(netloc: &str) -> Result<(&str, &str), ConnectError> {
    let Some(inner) = netloc.strip_prefix('[') else {
        let end = netloc.find([':', '/', '?', ',']).unwrap_or(netloc.len());
        return Ok((&netloc[..end], &netloc[end..]));
    };
    let close = inner.find(']').ok_or_else(|| {
        invalid("malformed connection URL: an IPv6 host address has no closing `]`")
    })?;
    if close == 0 {
        return Err(invalid(
            "malformed connection URL: the IPv6 host address between `[` and `]` is empty",
        ));
    }
    let rest = &inner[close + 1..];
    if rest.chars().next().is_some_and(|c| !":/?,".contains(c)) {
        return Err(invalid(
            "malformed connection URL: after an IPv6 address `]` must come `:`, `/`, `?` or `,`",
        ));
    }
    Ok((&inner[..close], rest))
}

fn parse_query(query: &str, params: &mut Params) -> Result<(), ConnectError> {
    let pieces: Vec<&str> = query.split('&').collect();
    for (i, piece) in pieces.iter().enumerate() {
        if piece.is_empty() && i + 1 == pieces.len() {
            break; // a trailing `&` is harmless
        }
        let (key, value) = piece.split_once('=').ok_or_else(|| {
            invalid("malformed connection URL: a query parameter has no `=` (expected key=value)")
        })?;
        if value.contains('=') {
            return Err(invalid(
                "malformed connection URL: a query parameter has a second `=` (encode it as %3D)",
            ));
        }
        let key = decode(key, "a query parameter name")?;
        let value = decode(value, &format!("the value of `{key}`"))?;
        let (key, value) = if key == "ssl" && value == "true" {
            ("sslmode".to_string(), "require".to_string())
        } else {
            (key, value)
        };
        params.insert(key, value);
    }
    Ok(())
}

/// libpq leaves a part unset rather than set to an empty string.
fn store(params: &mut Params, key: &str, value: &str) {
    if !value.is_empty() {
        params.insert(key.to_string(), value.to_string());
    }
}

fn split_at_char(text: &str, c: char) -> (&str, Option<&str>) {
    match text.split_once(c) {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    }
}

/// Percent-decoding as libpq does it: `%` must be followed by two hex digits,
/// `%00` is refused, and the result must be UTF-8. `what` names the part.
fn decode(text: &str, what: &str) -> Result<String, ConnectError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let byte = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(|| {
                invalid(format!(
                    "malformed connection URL: invalid percent-encoding in {what} \
                     (`%` must be followed by two hex digits; write `%25` for `%`)"
                ))
            })?;
        if byte == 0 {
            return Err(invalid(format!(
                "malformed connection URL: {what} contains %00"
            )));
        }
        out.push(byte);
        i += 3;
    }
    String::from_utf8(out).map_err(|_| {
        invalid(format!(
            "malformed connection URL: {what} is not UTF-8 once decoded"
        ))
    })
}

fn parse_keywords(text: &str) -> Result<Params, ConnectError> {
    let mut params = Params::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(params);
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(invalid(format!(
                "missing `=` after `{key}` in the connection string"
            )));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let value = keyword_value(&mut chars, &key)?;
        params.insert(key, value);
    }
}

fn keyword_value(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    key: &str,
) -> Result<String, ConnectError> {
    let quoted = chars.next_if_eq(&'\'').is_some();
    let mut value = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.extend(chars.next()),
            '\'' if quoted => return Ok(value),
            c if c.is_whitespace() && !quoted => return Ok(value),
            c => value.push(c),
        }
    }
    if quoted {
        return Err(invalid(format!(
            "unterminated quoted value for `{key}` in the connection string"
        )));
    }
    Ok(value)
}

/// The parts of a URI to write; `None` leaves a part out.
pub(crate) struct UriParts<'a> {
    pub user: &'a str,
    /// Already masked by the caller when the URI is for display.
    pub password: Option<&'a str>,
    /// Host name, IP address, or socket directory (starts with `/`).
    pub host: &'a str,
    pub port: u16,
    pub dbname: &'a str,
    /// Further settings, rendered as query parameters in this order.
    pub query: Vec<(&'a str, String)>,
}

/// Writes a URI that [`parse`] (and libpq) read back to the same parts. A
/// socket directory goes into the query (`?host=/dir`), an IPv6 address into
/// brackets; the port is always written, so a child's `PGPORT` cannot change
/// its meaning.
pub(crate) fn render_uri(parts: &UriParts<'_>, mask_password: bool) -> String {
    let enc = |s: &str, set: &'static AsciiSet| utf8_percent_encode(s, set).to_string();
    let password = match (parts.password, mask_password) {
        (None, _) => String::new(),
        (Some(_), true) => ":****".to_string(),
        (Some(p), false) => format!(":{}", enc(p, PART)),
    };
    let mut query = Vec::new();
    let netloc = if parts.host.starts_with('/') {
        query.push(format!("host={}", enc(parts.host, QUERY_VALUE)));
        query.push(format!("port={}", parts.port));
        String::new()
    } else if parts.host.contains(':') {
        format!("[{}]:{}", enc(parts.host, IPV6), parts.port)
    } else {
        format!("{}:{}", enc(parts.host, PART), parts.port)
    };
    query.extend(
        parts
            .query
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v, QUERY_VALUE))),
    );
    format!(
        "postgresql://{}{password}@{netloc}/{}?{}",
        enc(parts.user, PART),
        enc(parts.dbname, PART),
        query.join("&")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Params {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn get<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
        params.get(key).map(String::as_str)
    }

    #[test]
    fn every_uri_form_libpq_documents() {
        // The examples of the PostgreSQL docs, §34.1.1.2.
        assert!(p("postgresql://").is_empty());
        assert_eq!(get(&p("postgresql://localhost"), "host"), Some("localhost"));
        assert_eq!(get(&p("postgresql://localhost:5433"), "port"), Some("5433"));
        assert_eq!(
            get(&p("postgresql://localhost/mydb"), "dbname"),
            Some("mydb")
        );
        let o = p("postgresql://user@localhost");
        assert_eq!(get(&o, "user"), Some("user"));
        let o = p("postgresql://user:secret@localhost");
        assert_eq!(get(&o, "password"), Some("secret"));
        let o = p("postgresql://other@localhost/otherdb?connect_timeout=10&application_name=myapp");
        assert_eq!(get(&o, "connect_timeout"), Some("10"));
        assert_eq!(get(&o, "application_name"), Some("myapp"));
        let o = p("postgresql:///mydb?host=localhost&port=5433");
        assert_eq!(
            (get(&o, "host"), get(&o, "port")),
            (Some("localhost"), Some("5433"))
        );
        let o = p("postgresql://[2001:db8::1234]/database");
        assert_eq!(get(&o, "host"), Some("2001:db8::1234"));
        let o = p("postgresql:///dbname?host=/var/lib/postgresql");
        assert_eq!(get(&o, "host"), Some("/var/lib/postgresql"));
        let o = p("postgresql://%2Fvar%2Flib%2Fpostgresql/dbname");
        assert_eq!(get(&o, "host"), Some("/var/lib/postgresql"));
        assert_eq!(get(&o, "dbname"), Some("dbname"));
    }

    #[test]
    fn an_empty_host_with_credentials_is_a_socket_form() {
        let o = p("postgresql://root@/db?host=%2Fvar%2Frun%2Fpostgresql&sslmode=prefer");
        assert_eq!(get(&o, "user"), Some("root"));
        assert_eq!(get(&o, "host"), Some("/var/run/postgresql"));
        assert_eq!(get(&o, "dbname"), Some("db"));
        let o = p("postgresql://root@:5433");
        assert_eq!((get(&o, "host"), get(&o, "port")), (None, Some("5433")));
        let o = p("postgres://[::1]:6432?sslmode=disable");
        assert_eq!(
            (get(&o, "host"), get(&o, "port")),
            (Some("::1"), Some("6432"))
        );
        assert_eq!(get(&o, "sslmode"), Some("disable"));
    }

    #[test]
    fn query_parameters_override_and_decode_like_libpq() {
        let o = p("postgresql://h1/d?host=h2&password=a+b%26c&ssl=true");
        assert_eq!(get(&o, "host"), Some("h2"));
        assert_eq!(get(&o, "password"), Some("a+b&c"), "+ is not a space");
        assert_eq!(get(&o, "sslmode"), Some("require"));
        assert!(p("postgresql://h/d?sslmode=disable&").contains_key("sslmode"));
        let o = p("postgresql://u:p%40ss@h/d");
        assert_eq!(get(&o, "password"), Some("p@ss"));
    }

    #[test]
    fn several_hosts_are_refused_with_a_reason() {
        for text in [
            "postgresql://h1:5432,h2:5433/d",
            "postgresql://h1,h2/d",
            "postgresql:///d?host=a,b",
            "host=a,b dbname=d",
            "host=a port=1,2",
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains("several hosts"), "{text}: {err}");
        }
    }

    #[test]
    fn malformed_uris_are_named_without_their_values() {
        for (text, expect) in [
            ("postgresql://u:hunter2@[::1/d", "no closing `]`"),
            ("postgresql://u:hunter2@[]/d", "is empty"),
            ("postgresql://u:hunter2@[::1]x/d", "after an IPv6 address"),
            (
                "postgresql://u:hun%zzter2@h/d",
                "percent-encoding in the password",
            ),
            ("postgresql://u:hunter2@h/d?sslmode", "has no `=`"),
            ("postgresql://u:hunter2@h/d?a=b=c", "second `=`"),
            ("postgresql://u:hunter2%00@h/d", "contains %00"),
            ("postgresql://u:hunter2%ff@h/d", "not UTF-8"),
            (
                "postgresql://u:hunter2@h/d?ssl=1",
                "unknown connection parameter `ssl`",
            ),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(expect), "{text}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn rendered_uris_parse_back() {
        let parts = UriParts {
            user: "us er@x",
            password: Some("p:w@/?&="),
            host: "/tmp/my sock",
            port: 5433,
            dbname: "d b/?",
            query: vec![("sslmode", "prefer".into()), ("options", "-c a=b".into())],
        };
        let uri = render_uri(&parts, false);
        assert_eq!(
            uri,
            "postgresql://us%20er%40x:p%3Aw%40%2F%3F%26%3D@/d%20b%2F%3F\
             ?host=/tmp/my%20sock&port=5433&sslmode=prefer&options=-c%20a%3Db"
        );
        let o = p(&uri);
        assert_eq!(get(&o, "user"), Some("us er@x"));
        assert_eq!(get(&o, "password"), Some("p:w@/?&="));
        assert_eq!(get(&o, "host"), Some("/tmp/my sock"));
        assert_eq!(get(&o, "dbname"), Some("d b/?"));
        assert_eq!(get(&o, "options"), Some("-c a=b"));
        let masked = render_uri(&parts, true);
        assert!(masked.contains("us%20er%40x:****@/"), "{masked}");
        let v6 = UriParts {
            host: "fe80::1%eth0",
            ..parts
        };
        let uri = render_uri(&v6, false);
        assert!(uri.contains("@[fe80::1%25eth0]:5433/"), "{uri}");
        assert_eq!(get(&p(&uri), "host"), Some("fe80::1%eth0"));
    }
}
