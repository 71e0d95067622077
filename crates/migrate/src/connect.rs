//! Connection settings resolved the way `psql` resolves them.
//!
//! Order: an explicit connection string (`--database-url`), else `DATABASE_URL`,
//! else `NEON_TARGET_URL`; parameters the string leaves out come from the libpq
//! variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`,
//! `PGSSLMODE`, `PGSSLROOTCERT`, `PGAPPNAME`, `PGCONNECT_TIMEOUT`, `PGOPTIONS`),
//! then from `~/.pgpass`, then from libpq's defaults. The password never leaves
//! this module unmasked except towards the server.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::ConnectError;
use crate::pgpass;

/// libpq's `sslmode`, restricted to the modes we support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS if the server offers it, without certificate checks (libpq's default).
    Prefer,
    /// TLS required; the certificate is checked only if a root certificate is configured.
    Require,
    /// TLS required; the certificate must chain to a trusted root.
    VerifyCa,
    /// TLS required; chain and host name are checked.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, ConnectError> {
        match value {
            "disable" => Ok(SslMode::Disable),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-ca" => Ok(SslMode::VerifyCa),
            "verify-full" => Ok(SslMode::VerifyFull),
            other => Err(ConnectError::InvalidSettings(format!(
                "unknown sslmode `{other}` (expected disable, prefer, require, verify-ca or verify-full)"
            ))),
        }
    }

    /// The libpq spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Fully resolved connection settings.
#[derive(Clone)]
pub struct ConnectOptions {
    /// Host name, IP address, or Unix socket directory (starts with `/`).
    pub host: String,
    /// TCP port (also names the socket file).
    pub port: u16,
    /// Role name.
    pub user: String,
    /// Password, if any. Never printed.
    pub password: Option<String>,
    /// Database name.
    pub dbname: String,
    /// TLS mode.
    pub sslmode: SslMode,
    /// Root certificate file for verify-ca / verify-full, or `system`.
    pub sslrootcert: Option<String>,
    /// `channel_binding` (disable, prefer, require).
    pub channel_binding: Option<String>,
    /// `application_name` reported to the server.
    pub application_name: String,
    /// How long to wait for the server to answer.
    pub connect_timeout: Duration,
    /// Server options (`-c name=value …`), e.g. Neon's `endpoint=…`.
    pub options: Option<String>,
}

/// Everything but RFC 3986 unreserved characters is percent-encoded in URLs.
const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The parameters a connection string or the environment may set.
const KNOWN_PARAMS: &[&str] = &[
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

/// libpq environment variable for each parameter.
const ENV_PARAMS: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGDATABASE", "dbname"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGAPPNAME", "application_name"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGOPTIONS", "options"),
];

/// Variables that may hold a whole connection string, in order of precedence.
pub const URL_VARIABLES: &[&str] = &["DATABASE_URL", "NEON_TARGET_URL"];

impl ConnectOptions {
    /// Resolves settings from an explicit string and the process environment.
    ///
    /// # Errors
    /// [`ConnectError::InvalidSettings`] for a malformed string or value.
    pub fn resolve(explicit: Option<&str>) -> Result<ConnectOptions, ConnectError> {
        Self::resolve_with(explicit, |name| std::env::var(name).ok())
    }

    /// Like [`ConnectOptions::resolve`], reading variables through `env`.
    ///
    /// # Errors
    /// [`ConnectError::InvalidSettings`] for a malformed string or value.
    pub fn resolve_with(
        explicit: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ConnectOptions, ConnectError> {
        let from_var = || URL_VARIABLES.iter().find_map(|v| env(v));
        let text = explicit.map(str::to_string).or_else(from_var);
        let mut params = match text.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => parse_connection_string(t)?,
            _ => BTreeMap::new(),
        };
        for (var, key) in ENV_PARAMS {
            if let Some(value) = env(var).filter(|v| !v.is_empty()) {
                params.entry((*key).to_string()).or_insert(value);
            }
        }
        Self::from_params(params, &env)
    }

    /// Builds options from libpq parameters, applying libpq's defaults.
    fn from_params(
        mut params: BTreeMap<String, String>,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<ConnectOptions, ConnectError> {
        let mut take = |key: &str| params.remove(key).filter(|v| !v.is_empty());
        let host = take("host").unwrap_or_else(default_host);
        let port = parse_port(take("port"))?;
        let user = take("user")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".into());
        let dbname = take("dbname").unwrap_or_else(|| user.clone());
        let sslmode = SslMode::parse(take("sslmode").as_deref().unwrap_or("prefer"))?;
        let connect_timeout = parse_timeout(take("connect_timeout"))?;
        let mut options = ConnectOptions {
            password: take("password"),
            sslrootcert: take("sslrootcert"),
            channel_binding: take("channel_binding"),
            application_name: take("application_name").unwrap_or_else(|| "mantis".into()),
            options: take("options"),
            host,
            port,
            user,
            dbname,
            sslmode,
            connect_timeout,
        };
        if options.password.is_none() {
            options.password = pgpass::lookup(&options, env);
        }
        Ok(options)
    }

    /// Same server and credentials, another database.
    pub fn with_dbname(&self, dbname: &str) -> ConnectOptions {
        ConnectOptions {
            dbname: dbname.to_string(),
            ..self.clone()
        }
    }

    /// True when `host` is a Unix socket directory.
    pub fn is_socket(&self) -> bool {
        self.host.starts_with('/')
    }

    /// A connection URL with the password masked, for messages and logs.
    pub fn masked(&self) -> String {
        self.to_url(true)
    }

    /// A connection URL with the password in clear, to hand to another program
    /// (e.g. `pg_dump`) through its environment. Never print it.
    pub fn to_url_with_password(&self) -> String {
        self.to_url(false)
    }

    /// The settings as libpq environment variables, for a child process such
    /// as `pg_dump`: the password never appears on a command line.
    pub fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("PGHOST", self.host.clone()),
            ("PGPORT", self.port.to_string()),
            ("PGUSER", self.user.clone()),
            ("PGDATABASE", self.dbname.clone()),
            ("PGSSLMODE", self.sslmode.as_str().to_string()),
            ("PGAPPNAME", self.application_name.clone()),
            (
                "PGCONNECT_TIMEOUT",
                self.connect_timeout.as_secs().max(1).to_string(),
            ),
        ];
        let optional = [
            ("PGPASSWORD", &self.password),
            ("PGSSLROOTCERT", &self.sslrootcert),
            ("PGCHANNELBINDING", &self.channel_binding),
            ("PGOPTIONS", &self.options),
        ];
        env.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| v.clone().map(|v| (k, v))),
        );
        env
    }

    fn to_url(&self, mask: bool) -> String {
        let enc = |s: &str| utf8_percent_encode(s, URL_ENCODE).to_string();
        let password = match (&self.password, mask) {
            (None, _) => String::new(),
            (Some(_), true) => ":****".to_string(),
            (Some(p), false) => format!(":{}", enc(p)),
        };
        let mut query = vec![format!("sslmode={}", self.sslmode.as_str())];
        let authority = if self.is_socket() {
            query.insert(0, format!("host={}", enc(&self.host)));
            format!("{}{password}@", enc(&self.user))
        } else {
            format!("{}{password}@{}:{}", enc(&self.user), self.host, self.port)
        };
        if self.is_socket() && self.port != 5432 {
            query.push(format!("port={}", self.port));
        }
        format!(
            "postgresql://{authority}/{}?{}",
            enc(&self.dbname),
            query.join("&")
        )
    }
}

impl fmt::Display for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectOptions({})", self.masked())
    }
}

fn default_host() -> String {
    const SOCKET_DIR: &str = "/var/run/postgresql";
    if Path::new(SOCKET_DIR).is_dir() {
        SOCKET_DIR.to_string()
    } else {
        "localhost".to_string()
    }
}

fn parse_port(value: Option<String>) -> Result<u16, ConnectError> {
    match value {
        None => Ok(5432),
        Some(v) => v.parse().map_err(|_| {
            ConnectError::InvalidSettings(format!("port `{v}` is not a number from 1 to 65535"))
        }),
    }
}

fn parse_timeout(value: Option<String>) -> Result<Duration, ConnectError> {
    match value {
        None => Ok(Duration::from_secs(10)),
        Some(v) => v
            .parse::<u64>()
            .map(|s| Duration::from_secs(s.max(2)))
            .map_err(|_| {
                ConnectError::InvalidSettings(format!("connect_timeout `{v}` is not whole seconds"))
            }),
    }
}

/// Parses a URL (`postgresql://…`) or a keyword string (`host=… dbname=…`).
fn parse_connection_string(text: &str) -> Result<BTreeMap<String, String>, ConnectError> {
    let params = if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        parse_url(text)?
    } else if text.contains('=') {
        parse_keywords(text)?
    } else {
        return Err(ConnectError::InvalidSettings(
            "the connection string is neither a postgresql:// URL nor `key=value` pairs".into(),
        ));
    };
    if let Some(unknown) = params.keys().find(|k| !KNOWN_PARAMS.contains(&k.as_str())) {
        return Err(ConnectError::InvalidSettings(format!(
            "unknown connection parameter `{unknown}` (known: {})",
            KNOWN_PARAMS.join(", ")
        )));
    }
    Ok(params)
}

fn parse_url(text: &str) -> Result<BTreeMap<String, String>, ConnectError> {
    // The url crate's messages never echo the input, so the password stays hidden.
    let url = url::Url::parse(text)
        .map_err(|e| ConnectError::InvalidSettings(format!("malformed connection URL ({e})")))?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let mut params = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        if !v.is_empty() {
            params.insert(k.to_string(), v);
        }
    };
    set("user", decode(url.username()));
    set("password", url.password().map(decode).unwrap_or_default());
    set("host", url.host_str().map(decode).unwrap_or_default());
    set(
        "port",
        url.port().map(|p| p.to_string()).unwrap_or_default(),
    );
    set("dbname", decode(url.path().trim_start_matches('/')));
    for (key, value) in url.query_pairs() {
        params.insert(key.into_owned(), value.into_owned());
    }
    Ok(params)
}

fn parse_keywords(text: &str) -> Result<BTreeMap<String, String>, ConnectError> {
    let mut params = BTreeMap::new();
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
            return Err(ConnectError::InvalidSettings(format!(
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
        return Err(ConnectError::InvalidSettings(format!(
            "unterminated quoted value for `{key}` in the connection string"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(
        explicit: Option<&str>,
        vars: &[(&str, &str)],
    ) -> Result<ConnectOptions, ConnectError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([("PGPASSFILE".to_string(), "/nonexistent".to_string())])
            .collect();
        ConnectOptions::resolve_with(explicit, |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn explicit_url_wins_over_environment() {
        let o = resolve(
            Some("postgresql://alice:s3cret@db.example:6543/inv?sslmode=require"),
            &[
                ("DATABASE_URL", "postgresql://bob@other/x"),
                ("PGUSER", "carol"),
            ],
        )
        .unwrap();
        assert_eq!(
            (o.user.as_str(), o.host.as_str(), o.port),
            ("alice", "db.example", 6543)
        );
        assert_eq!(o.dbname, "inv");
        assert_eq!(o.sslmode, SslMode::Require);
        assert_eq!(o.password.as_deref(), Some("s3cret"));
    }

    #[test]
    fn database_url_then_neon_target_url() {
        let o = resolve(None, &[("NEON_TARGET_URL", "postgres://n@neon.tech/main")]).unwrap();
        assert_eq!(o.host, "neon.tech");
        let o = resolve(
            None,
            &[
                ("DATABASE_URL", "postgres://d@local/one"),
                ("NEON_TARGET_URL", "postgres://n@neon.tech/main"),
            ],
        )
        .unwrap();
        assert_eq!(o.host, "local");
    }

    #[test]
    fn pg_variables_fill_what_the_string_leaves_out() {
        let o = resolve(
            Some("postgresql://db.example/inv"),
            &[
                ("PGUSER", "carol"),
                ("PGPASSWORD", "pw"),
                ("PGPORT", "5433"),
                ("PGHOST", "ignored"),
            ],
        )
        .unwrap();
        assert_eq!(
            (o.user.as_str(), o.port, o.host.as_str()),
            ("carol", 5433, "db.example")
        );
        assert_eq!(o.password.as_deref(), Some("pw"));
    }

    #[test]
    fn libpq_defaults_apply_without_settings() {
        let o = resolve(None, &[("USER", "dana")]).unwrap();
        assert_eq!(
            (o.user.as_str(), o.dbname.as_str(), o.port),
            ("dana", "dana", 5432)
        );
        assert_eq!(o.sslmode, SslMode::Prefer);
        assert_eq!(o.application_name, "mantis");
    }

    #[test]
    fn keyword_strings_are_understood() {
        let o = resolve(
            Some("host=h port=7 dbname='my db' user=u password='a b\\'c'"),
            &[],
        )
        .unwrap();
        assert_eq!(
            (o.host.as_str(), o.port, o.dbname.as_str()),
            ("h", 7, "my db")
        );
        assert_eq!(o.password.as_deref(), Some("a b'c"));
    }

    #[test]
    fn socket_directories_work_in_urls() {
        let o = resolve(
            Some("postgresql:///inv?host=/var/run/postgresql&user=u"),
            &[],
        )
        .unwrap();
        assert!(o.is_socket());
        assert_eq!(
            o.masked(),
            "postgresql://u@/inv?host=%2Fvar%2Frun%2Fpostgresql&sslmode=prefer"
        );
        let o = resolve(Some("postgresql://u@%2Ftmp%2Fsock/inv"), &[]).unwrap();
        assert_eq!(o.host, "/tmp/sock");
    }

    #[test]
    fn every_sslmode_parses_and_unknown_ones_are_named() {
        for mode in ["disable", "prefer", "require", "verify-ca", "verify-full"] {
            let o = resolve(Some(&format!("postgresql://h/d?sslmode={mode}")), &[]).unwrap();
            assert_eq!(o.sslmode.as_str(), mode);
        }
        let err = resolve(Some("postgresql://h/d?sslmode=sometimes"), &[]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("unknown sslmode `sometimes`") && text.contains("verify-full"),
            "{text}"
        );
        assert!(resolve(None, &[("PGSSLMODE", "bogus")]).is_err());
    }

    #[test]
    fn password_is_masked_in_every_rendering() {
        let o = resolve(Some("postgresql://alice:Sup%40rS3cret@h:5432/d"), &[]).unwrap();
        assert_eq!(o.password.as_deref(), Some("Sup@rS3cret"));
        for text in [o.masked(), o.to_string(), format!("{o:?}")] {
            assert!(!text.contains("Sup"), "{text}");
            assert!(text.contains("alice:****@h:5432"), "{text}");
        }
        assert!(o.to_url_with_password().contains("Sup%40rS3cret"));
    }

    #[test]
    fn malformed_strings_are_clear_errors_without_the_password() {
        for bad in [
            "postgresql://u:hunter2@h:notaport/d",
            "host=h password='hunter2",
            "just some words hunter2",
            "postgresql://u:hunter2@h/d?colour=blue",
        ] {
            let err = resolve(Some(bad), &[]).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
            assert!(err.starts_with("invalid connection settings"), "{err}");
        }
    }
}
