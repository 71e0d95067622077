//! The one way a transaction is opened, committed and rolled back.

use std::future::Future;

use tokio_postgres::Client;

/// Runs `body` between BEGIN and COMMIT on `client`. When `body` fails, the
/// transaction is rolled back (best effort: a lost session is rolled back by
/// the server anyway) and `body`'s error returned; a failing BEGIN or COMMIT
/// comes back through `db`, which gives the driver's error the caller's type.
///
/// # Errors
/// `body`'s error, or `db` of the BEGIN's or COMMIT's.
pub async fn transaction<T, E, F>(
    client: &Client,
    body: F,
    db: impl Fn(tokio_postgres::Error) -> E,
) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
{
    client.batch_execute("BEGIN").await.map_err(&db)?;
    match body.await {
        Ok(value) => {
            client.batch_execute("COMMIT").await.map_err(&db)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = client.batch_execute("ROLLBACK").await {
                tracing::debug!(error = %rollback, "rollback failed (the server rolls back a lost session anyway)");
            }
            Err(e)
        }
    }
}
