//! Why a posting, a report or a catalogue change did not happen. A posting
//! error always means nothing of the batch was posted.

use thiserror::Error;
use tokio_postgres::error::SqlState;

/// A posting failure. Nothing of the batch was posted.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PostingError {
    /// The batch is empty.
    #[error("nothing to post: the batch has no lines")]
    Empty,
    /// A line is invalid before it reaches the database.
    #[error("line {line}: {problem}")]
    Invalid {
        /// 1-based line of the batch.
        line: usize,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// No product has this SKU.
    #[error("line {line}: unknown product SKU {sku:?}")]
    UnknownProduct {
        /// 1-based line of the batch.
        line: usize,
        /// The SKU given.
        sku: String,
    },
    /// No warehouse has this code.
    #[error("line {line}: unknown warehouse {code:?}")]
    UnknownWarehouse {
        /// 1-based line of the batch.
        line: usize,
        /// The code given.
        code: String,
    },
    /// The database's ledger rules refused the batch (negative stock, a
    /// reused idempotency key, an unbalanced transfer, a number too large…).
    #[error("{message}{}", hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
    Rejected {
        /// The rule (constraint) that refused it, when named.
        rule: Option<String>,
        /// The database's message.
        message: String,
        /// The database's hint.
        hint: Option<String>,
    },
    /// A batch file could not be read.
    #[error("{0}")]
    Batch(String),
    /// The connection or another database error.
    #[error("posting failed (nothing was posted)")]
    Database(#[source] tokio_postgres::Error),
}

impl PostingError {
    /// The rule that refused the batch, if the database named one.
    pub fn rule(&self) -> Option<&str> {
        match self {
            PostingError::Rejected { rule, .. } => rule.as_deref(),
            _ => None,
        }
    }
}

/// SQLSTATE classes the ledger's rules raise: integrity (23) and data (22).
pub(crate) fn from_db(e: tokio_postgres::Error) -> PostingError {
    let Some(db) = e.as_db_error() else {
        return PostingError::Database(e);
    };
    let code = db.code().code();
    if code.starts_with("23") || code.starts_with("22") {
        let message = if code == SqlState::NUMERIC_VALUE_OUT_OF_RANGE.code() {
            format!(
                "a number does not fit its column ({}): quantities are numeric(18,4), unit costs numeric(20,6)",
                db.message()
            )
        } else {
            db.message().to_string()
        };
        return PostingError::Rejected {
            rule: db.constraint().map(str::to_string),
            message,
            hint: db.hint().map(str::to_string),
        };
    }
    PostingError::Database(e)
}

/// A catalogue or report failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The thing named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A value fails the database's validation.
    #[error("{0}")]
    Invalid(String),
    /// The database refused the change.
    #[error("{message}{}", hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
    Rejected {
        /// The database's message.
        message: String,
        /// Its hint.
        hint: Option<String>,
    },
    /// The connection or another database error (its words are the source).
    #[error("database error")]
    Database(#[source] tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for CatalogError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) if db.code().code().starts_with("23") => CatalogError::Rejected {
                message: db.message().to_string(),
                hint: db.hint().map(str::to_string),
            },
            _ => CatalogError::Database(e),
        }
    }
}
