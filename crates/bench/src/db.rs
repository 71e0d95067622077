//! Scratch databases for the harness: created, cloned, dropped.

use anyhow::{Context as _, Result};
use mantis_migrate::ident::quote_ident;
use mantis_migrate::ConnectOptions;
use tokio_postgres::Client;

/// A connection to the server's maintenance database.
pub struct Server {
    /// Options for the maintenance database.
    pub options: ConnectOptions,
    /// The admin client.
    pub admin: Client,
}

impl Server {
    /// Connects to `url` (its database is used only for administration).
    pub async fn connect(url: &str) -> Result<Server> {
        let options = ConnectOptions::resolve(Some(url))?;
        let admin = connect(&options).await?;
        Ok(Server { options, admin })
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        self.options.with_dbname(name).to_url_with_password()
    }

    /// Creates `name` (empty, or a copy of `template`), dropping any old one.
    pub async fn create(&self, name: &str, template: Option<&str>) -> Result<()> {
        self.drop(name).await?;
        let from = template.map_or_else(
            || " TEMPLATE template0".to_string(),
            |t| format!(" TEMPLATE {}", quote_ident(t)),
        );
        self.admin
            .batch_execute(&format!("CREATE DATABASE {}{from}", quote_ident(name)))
            .await
            .with_context(|| format!("creating database {name}"))
    }

    /// Drops `name` if it exists.
    pub async fn drop(&self, name: &str) -> Result<()> {
        mantis_migrate::scratch::drop_database(&self.admin, name)
            .await
            .with_context(|| format!("dropping database {name}"))
    }

    /// A client on database `name`.
    pub async fn client(&self, name: &str) -> Result<Client> {
        connect(&self.options.with_dbname(name)).await
    }
}

/// A plain client (the connection runs on its own task).
pub async fn connect(options: &ConnectOptions) -> Result<Client> {
    let session =
        mantis_migrate::Session::connect(options, mantis_migrate::ignore_events()).await?;
    Ok(session.into_client())
}
