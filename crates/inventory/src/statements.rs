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

use futures_util::future::try_join4;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row, Statement};

use crate::sql;

/// A posting statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    /// Which SKUs and warehouse codes exist.
    Resolve = 0,
    /// Creates the missing stock rows of a batch.
    LockKeys = 1,
    /// Locks a batch's stock rows in key order.
    LockRows = 2,
    /// Inserts a batch's movements (in the order of `Args::params`).
    Insert = 3,
}

const TWO_NAME_ARRAYS: &[Type] = &[Type::TEXT_ARRAY, Type::TEXT_ARRAY];

const INSERT_TYPES: &[Type] = &[
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
    pub(crate) const ALL: [Which; 4] = [
        Which::Resolve,
        Which::LockKeys,
        Which::LockRows,
        Which::Insert,
    ];

    pub(crate) fn text(self) -> &'static str {
        match self {
            Which::Resolve => sql::RESOLVE,
            Which::LockKeys => sql::LOCK_KEYS,
            Which::LockRows => sql::LOCK_ROWS,
            Which::Insert => sql::POST_MOVEMENTS,
        }
    }

    /// The parameters' types, as the SQL casts them.
    pub(crate) fn types(self) -> &'static [Type] {
        match self {
            Which::Resolve | Which::LockKeys | Which::LockRows => TWO_NAME_ARRAYS,
            Which::Insert => INSERT_TYPES,
        }
    }
}

/// How the statements are sent.
pub(crate) enum Statements {
    /// Prepared on the connection, in the order of [`Which::ALL`].
    Prepared(Box<[Statement; 4]>),
    /// Sent unnamed with each execution.
    Unnamed,
}

impl Statements {
    /// Prepares every statement on `client` (one round trip).
    pub(crate) async fn prepare(client: &Client) -> Result<Statements, tokio_postgres::Error> {
        let [a, b, c, d] = Which::ALL.map(|w| client.prepare(w.text()));
        let (a, b, c, d) = try_join4(a, b, c, d).await?;
        Ok(Statements::Prepared(Box::new([a, b, c, d])))
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
        let db = mantis_testkit::TestDb::at_version("posting_types", 4).await;
        let client = db.client().await;
        for which in Which::ALL {
            let prepared = client.prepare(which.text()).await.unwrap();
            assert_eq!(prepared.params(), which.types(), "{which:?}");
        }
    }
}
