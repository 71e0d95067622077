//! Connection settings resolved the way `psql` resolves them.
//!
//! Order: an explicit connection string (`--database-url`), else `DATABASE_URL`,
//! else `NEON_TARGET_URL`; parameters the string leaves out come from the libpq
//! variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`,
//! `PGSSLMODE`, `PGSSLROOTCERT`, `PGAPPNAME`, `PGCONNECT_TIMEOUT`, `PGOPTIONS`),
//! then from `~/.pgpass`, then from libpq's defaults. The password never leaves
//! this module unmasked except towards the server.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::conninfo::{self, Params, UriParts};
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
#[derive(Clone, PartialEq, Eq)]
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

/// `application_name` when nothing sets one.
const DEFAULT_APPLICATION_NAME: &str = "mantis";
/// How long to wait for a server when nothing says.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
            Some(t) if !t.is_empty() => conninfo::parse(t)?,
            _ => Params::new(),
        };
        for (var, key) in ENV_PARAMS {
            if let Some(value) = env(var).filter(|v| !v.is_empty()) {
                params.entry((*key).to_string()).or_insert(value);
            }
        }
        conninfo::refuse_multiple_hosts(&params)?;
        Self::from_params(params, &env)
    }

    /// Builds options from libpq parameters, applying libpq's defaults.
    fn from_params(
        mut params: Params,
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
            application_name: take("application_name")
                .unwrap_or_else(|| DEFAULT_APPLICATION_NAME.into()),
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
        let mut query = vec![("sslmode", self.sslmode.as_str().to_string())];
        let optional = [
            ("sslrootcert", self.sslrootcert.clone()),
            ("channel_binding", self.channel_binding.clone()),
            (
                "application_name",
                Some(self.application_name.clone()).filter(|a| a != DEFAULT_APPLICATION_NAME),
            ),
            (
                "connect_timeout",
                Some(self.connect_timeout)
                    .filter(|t| *t != DEFAULT_CONNECT_TIMEOUT)
                    .map(|t| t.as_secs().to_string()),
            ),
            ("options", self.options.clone()),
        ];
        query.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        let parts = UriParts {
            user: &self.user,
            password: self.password.as_deref(),
            host: &self.host,
            port: self.port,
            dbname: &self.dbname,
            query,
        };
        conninfo::render_uri(&parts, mask)
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
        None => Ok(DEFAULT_CONNECT_TIMEOUT),
        Some(v) => v
            .parse::<u64>()
            .map(|s| Duration::from_secs(s.max(2)))
            .map_err(|_| {
                ConnectError::InvalidSettings(format!("connect_timeout `{v}` is not whole seconds"))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
            "postgresql://u@/inv?host=/var/run/postgresql&port=5432&sslmode=prefer"
        );
        let o = resolve(Some("postgresql://u@%2Ftmp%2Fsock/inv"), &[]).unwrap();
        assert_eq!(o.host, "/tmp/sock");
        // What mantis prints for a socket connection, it reads back.
        let printed = "postgresql://root@/db?host=%2Fvar%2Frun%2Fpostgresql&sslmode=prefer";
        let o = resolve(Some(printed), &[]).unwrap();
        assert_eq!(
            (o.user.as_str(), o.host.as_str()),
            ("root", "/var/run/postgresql")
        );
        assert_eq!(resolve(Some(&o.to_url_with_password()), &[]).unwrap(), o);
    }

    #[test]
    fn several_hosts_from_the_environment_are_refused() {
        let err = resolve(None, &[("PGHOST", "a,b")]).unwrap_err().to_string();
        assert!(err.contains("several hosts"), "{err}");
    }

    fn any_host() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9.-]{0,20}",
            "(25[0-5]|1?[0-9]{1,2})(\\.(25[0-5]|1?[0-9]{1,2})){3}",
            "[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}(%[a-z0-9]{1,5})?",
            "/[^,\\x00]{0,30}",
        ]
    }

    fn any_text() -> impl Strategy<Value = String> {
        "[^\\x00]{1,24}"
    }

    prop_compose! {
        fn any_options()(
            host in any_host(),
            port in 1u16..,
            user in any_text(),
            password in proptest::option::of(any_text()),
            dbname in any_text(),
            sslmode in prop_oneof![
                Just(SslMode::Disable), Just(SslMode::Prefer), Just(SslMode::Require),
                Just(SslMode::VerifyCa), Just(SslMode::VerifyFull),
            ],
            sslrootcert in proptest::option::of(any_text()),
            channel_binding in proptest::option::of(prop_oneof![Just("disable"), Just("prefer"), Just("require")]),
            application_name in any_text(),
            connect_timeout in 2u64..1000,
            options in proptest::option::of(any_text()),
        ) -> ConnectOptions {
            ConnectOptions {
                host, port, user, password, dbname, sslmode, sslrootcert,
                channel_binding: channel_binding.map(str::to_string),
                application_name,
                connect_timeout: Duration::from_secs(connect_timeout),
                options,
            }
        }
    }

    proptest! {
        /// Whatever mantis renders (for a child process, or masked for a
        /// message) parses back to the same settings.
        #[test]
        fn rendered_settings_parse_back_to_the_same(o in any_options()) {
            let back = resolve(Some(&o.to_url_with_password()), &[]).unwrap();
            prop_assert_eq!(&back, &o);
            let shown = resolve(Some(&o.masked()), &[]).unwrap();
            let expect_password = o.password.as_ref().map(|_| "****".to_string());
            prop_assert_eq!(&shown, &ConnectOptions { password: expect_password, ..o.clone() });
        }
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
