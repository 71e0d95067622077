//! The posting statements, and how they are sent: prepared once on a
//! connection (parsed and planned once, reused by every batch), or unnamed
//! (parsed with each batch, in the same round trip). Unnamed statements are
//! what works through a transaction-mode pooler (PgBouncer before 1.21,
//! Neon's `-pooler` endpoints): a prepared statement lives on one server
//! connection, and the pooler may send the next transaction to another.
//!
//! Each statement's parameter types are declared here (an unnamed statement
//! must name them); every parameter is cast in its SQL, and a test checks the
//! declarations against what the server infers.

use futures_util::future::try_join3;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row, Statement};

use crate::sql;

/// A posting statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    /// Which SKUs and warehouse codes exist.
    Resolve = 0,
    /// Posts a batch's movements, set-based (in the order of `Args::params`).
    Post = 1,
    /// Inserts the movements of a batch touching one stock row (same parameters).
    Insert = 2,
}

const TWO_NAME_ARRAYS: &[Type] = &[Type::TEXT_ARRAY, Type::TEXT_ARRAY];

const POST_TYPES: &[Type] = &[
    Type::UUID_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::NUMERIC_ARRAY,
    Type::NUMERIC_ARRAY,
    Type::TEXT_ARRAY,
    Type::UUID_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
];

impl Which {
    /// Every statement, in the order [`Statements::Prepared`] holds them.
    pub(crate) const ALL: [Which; 3] = [Which::Resolve, Which::Post, Which::Insert];

    pub(crate) fn text(self) -> &'static str {
        match self {
            Which::Resolve => sql::RESOLVE,
            Which::Post => sql::POST_MOVEMENTS,
            Which::Insert => sql::INSERT_MOVEMENTS,
        }
    }

    /// The parameters' types, as the SQL casts them.
    pub(crate) fn types(self) -> &'static [Type] {
        match self {
            Which::Resolve => TWO_NAME_ARRAYS,
            Which::Post | Which::Insert => POST_TYPES,
        }
    }
}

/// How the statements are sent.
pub(crate) enum Statements {
    /// Prepared on the connection, in the order of [`Which::ALL`].
    Prepared(Box<[Statement; 3]>),
    /// Sent unnamed with each execution.
    Unnamed,
}

impl Statements {
    /// Prepares every statement on `client` (one round trip).
    pub(crate) async fn prepare(client: &Client) -> Result<Statements, tokio_postgres::Error> {
        let [a, b, c] = Which::ALL.map(|w| client.prepare(w.text()));
        let (a, b, c) = try_join3(a, b, c).await?;
        Ok(Statements::Prepared(Box::new([a, b, c])))
    }

    /// Runs `which` with `params`, returning its rows.
    pub(crate) async fn query(
        &self,
        client: &Client,
        which: Which,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        match self {
            Statements::Prepared(prepared) => client.query(&prepared[which as usize], params).await,
            Statements::Unnamed => {
                let typed: Vec<(&(dyn ToSql + Sync), Type)> = params
                    .iter()
                    .copied()
                    .zip(which.types().iter().cloned())
                    .collect();
                client.query_typed(which.text(), &typed).await
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is how a test reports failure
mod tests {
    use super::*;

    /// An unnamed statement is sent with the declared types: they must be
    /// the ones the server gives each parameter.
    #[tokio::test]
    async fn the_declared_parameter_types_are_the_servers() {
        let db = mantis_testkit::TestDb::at_version("posting_types", 5).await;
        let client = db.client().await;
        for which in Which::ALL {
            let prepared = client.prepare(which.text()).await.unwrap();
            assert_eq!(prepared.params(), which.types(), "{which:?}");
        }
    }
}
