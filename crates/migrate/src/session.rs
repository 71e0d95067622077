//! A connection to the server, with notices forwarded as events.

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::error::{DbError, SqlState};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{AsyncMessage, Client, Connection, NoTls, Socket};

use crate::connect::{ConnectOptions, SslMode};
use crate::error::ConnectError;
use crate::event::{Event, EventSink};
use crate::tls;

/// An open connection.
pub struct Session {
    client: Client,
    options: ConnectOptions,
    target: String,
    server_version: String,
    server_version_num: i32,
}

impl Session {
    /// Connects with the given settings. Server notices go to `events`.
    ///
    /// # Errors
    /// [`ConnectError`] telling unreachable, authentication, missing database and
    /// TLS failures apart; messages show the masked connection string only.
    pub async fn connect(
        options: &ConnectOptions,
        events: EventSink,
    ) -> Result<Session, ConnectError> {
        let target = options.masked();
        let config = pg_config(options);
        let tls_config = tls::client_config(options).map_err(|reason| ConnectError::Tls {
            target: target.clone(),
            reason,
        })?;
        let client = match tls_config {
            None => open(&config, NoTls, &target, options, events.clone()).await?,
            Some(c) => {
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(c);
                open(&config, tls, &target, options, events.clone()).await?
            }
        };
        let session = Session::describe(client, target, options.clone()).await?;
        events(&Event::Connected {
            target: session.target.clone(),
            server_version: session.server_version.clone(),
        });
        Ok(session)
    }

    async fn describe(
        client: Client,
        target: String,
        options: ConnectOptions,
    ) -> Result<Session, ConnectError> {
        let row = client
            .query_typed_one(
                "SELECT current_setting('server_version') AS version, \
                        current_setting('server_version_num')::int AS version_num",
                &[],
            )
            .await
            .and_then(|row| Ok((row.try_get("version")?, row.try_get("version_num")?)))
            .map_err(|e| ConnectError::Other {
                target: target.clone(),
                reason: crate::error::describe_chain(&e),
            })?;
        Ok(Session {
            client,
            options,
            target,
            server_version: row.0,
            server_version_num: row.1,
        })
    }

    /// A second connection to the same database, for work beside this one
    /// (watching its lock waits). Its application_name says what it is for;
    /// its notices are dropped.
    ///
    /// # Errors
    /// As [`Session::connect`].
    pub async fn sibling(&self, purpose: &str) -> Result<Session, ConnectError> {
        let mut options = self.options.clone();
        options.application_name = format!("{} ({purpose})", options.application_name);
        Box::pin(Session::connect(&options, crate::event::ignore_events())).await
    }

    /// This connection's server process id.
    ///
    /// # Errors
    /// The server's error.
    pub async fn backend_pid(&self) -> Result<i32, tokio_postgres::Error> {
        self.client
            .query_typed_one(crate::sql::BACKEND_PID, &[])
            .await?
            .try_get("pid")
    }

    /// The connection.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Gives up the session, keeping the driver client (the connection stays open).
    pub fn into_client(self) -> Client {
        self.client
    }

    /// The settings this session was opened with.
    pub fn options(&self) -> &ConnectOptions {
        &self.options
    }

    /// The masked connection string.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The server's version string, e.g. `15.4 (Debian …)`.
    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// The server's version number, e.g. 150004.
    pub fn server_version_num(&self) -> i32 {
        self.server_version_num
    }

    /// The server's major version, e.g. 15.
    pub fn server_major(&self) -> u32 {
        server_major(self.server_version_num)
    }
}

/// The major version of a `server_version_num` (150004 → 15).
pub fn server_major(server_version_num: i32) -> u32 {
    u32::try_from(server_version_num / 10_000).unwrap_or(0)
}

fn pg_config(options: &ConnectOptions) -> tokio_postgres::Config {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&options.host)
        .port(options.port)
        .user(&options.user)
        .dbname(&options.dbname)
        .application_name(&options.application_name)
        .connect_timeout(options.connect_timeout)
        .ssl_mode(match options.sslmode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
    if let Some(password) = &options.password {
        config.password(password);
    }
    if let Some(server_options) = &options.options {
        config.options(server_options);
    }
    if let Some(binding) = &options.channel_binding {
        config.channel_binding(match binding.as_str() {
            "disable" => tokio_postgres::config::ChannelBinding::Disable,
            "require" => tokio_postgres::config::ChannelBinding::Require,
            _ => tokio_postgres::config::ChannelBinding::Prefer,
        });
    }
    config
}

async fn open<T>(
    config: &tokio_postgres::Config,
    tls: T,
    target: &str,
    options: &ConnectOptions,
    events: EventSink,
) -> Result<Client, ConnectError>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
{
    // The driver's connect_timeout covers reaching the socket only; libpq's
    // covers the whole startup. A listener that accepts and never answers
    // (a stuck pooler or proxy) must not hang the tool.
    let limit = options.connect_timeout;
    let (client, connection) = tokio::time::timeout(limit, config.connect(tls))
        .await
        .map_err(|_| ConnectError::Unreachable {
            target: target.to_string(),
            reason: format!(
                "the connection was accepted but the startup did not finish within {} s (connect_timeout)",
                limit.as_secs()
            ),
        })?
        .map_err(|e| classify(e, target, options))?;
    forward_notices(connection, events);
    Ok(client)
}

/// Drives the connection and turns server notices into events as they arrive.
fn forward_notices<S, T>(mut connection: Connection<S, T>, events: EventSink)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notice(n)) => events(&Event::Notice {
                    severity: n.severity().to_string(),
                    message: n.message().to_string(),
                    detail: n.detail().map(str::to_string),
                    hint: n.hint().map(str::to_string),
                }),
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "connection closed");
                    break;
                }
            }
        }
    });
}

/// Sorts a connect failure by SQLSTATE, else by error source, else by the
/// driver's kind of failure ([`DriverKind`]); never by the words of a message.
fn classify(error: tokio_postgres::Error, target: &str, options: &ConnectOptions) -> ConnectError {
    let target = target.to_string();
    if let Some(db) = error.as_db_error() {
        return classify_server(db, target, options);
    }
    let reason = error_chain(&error);
    let kind = DriverKind::of(&error);
    if has_source::<rustls::Error>(&error) || kind == DriverKind::Tls {
        ConnectError::Tls { target, reason }
    } else if has_source::<std::io::Error>(&error) || kind == DriverKind::Timeout {
        ConnectError::Unreachable { target, reason }
    } else if kind == DriverKind::Config && options.password.is_none() {
        // The only configuration the driver finds missing mid-handshake is
        // the password the server asked for.
        ConnectError::Authentication {
            target,
            message: format!(
                "the server asks for a password and none was given (URL, PGPASSWORD or ~/.pgpass): {reason}"
            ),
        }
    } else {
        ConnectError::Other { target, reason }
    }
}

/// A refusal the server sent, by its SQLSTATE.
fn classify_server(db: &DbError, target: String, options: &ConnectOptions) -> ConnectError {
    let code = db.code();
    if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
    {
        ConnectError::Authentication {
            target,
            message: db.message().to_string(),
        }
    } else if *code == SqlState::UNDEFINED_DATABASE {
        ConnectError::DatabaseMissing {
            target,
            database: options.dbname.clone(),
        }
    } else {
        ConnectError::Other {
            target,
            reason: format!("{} ({})", db.message(), code.code()),
        }
    }
}

/// The kinds of driver failure a connect can end with that carry neither a
/// SQLSTATE nor a typed source. tokio-postgres keeps its error kind private,
/// but each kind's description is fixed and starts the error's text (its
/// `error/mod.rs`); that description, not any message, is what is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DriverKind {
    /// "error performing TLS handshake" (e.g. the server does not offer TLS).
    Tls,
    /// "timeout waiting for server" (connect_timeout ran out).
    Timeout,
    /// "invalid configuration" (mid-handshake: the password is missing).
    Config,
    /// Anything else.
    Other,
}

impl DriverKind {
    fn of(error: &tokio_postgres::Error) -> DriverKind {
        let text = error.to_string();
        [
            ("error performing TLS handshake", DriverKind::Tls),
            ("timeout waiting for server", DriverKind::Timeout),
            ("invalid configuration", DriverKind::Config),
        ]
        .into_iter()
        .find(|(description, _)| text.starts_with(description))
        .map_or(DriverKind::Other, |(_, kind)| kind)
    }
}

fn has_source<E: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<E>() {
            return true;
        }
        current = e.source();
    }
    false
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut current = error.source();
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}
