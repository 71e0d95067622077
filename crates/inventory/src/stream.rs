//! Posting a batch of any length in one transaction, chunk by chunk: the
//! lines arrive from a reader (a file read in chunks, see
//! [`crate::batch::read_chunks`]) and are posted as they come, so memory
//! stays constant; all lines or none, as for a batch held in memory.

use rust_decimal::Decimal;
use serde::Serialize;
use tokio::sync::mpsc::Receiver;
use tokio_postgres::Client;

use crate::error::{from_db, PostingError};
use crate::posting::{checked_from, Posted, Poster, Posting, Row};

/// What posting a stream of lines did (or has done so far).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StreamSummary {
    /// Lines read.
    pub lines: usize,
    /// Movements posted now.
    pub posted: usize,
    /// Movements skipped: their source line was posted before.
    pub already_posted: usize,
    /// Change of stock value of the movements posted now.
    pub value_change: Decimal,
}

impl StreamSummary {
    fn add(&mut self, posted: &[Posted]) {
        for p in posted {
            if p.applied {
                self.posted += 1;
                self.value_change += p.value_delta.unwrap_or_default();
            } else {
                self.already_posted += 1;
            }
        }
    }
}

/// Why one chunk could not be posted.
enum ChunkError {
    /// Refused before anything was sent.
    Posting(PostingError),
    /// The database refused the chunk's rows (named once the transaction is over).
    Database(Vec<Row>, tokio_postgres::Error),
}

impl Poster {
    /// Posts every chunk `chunks` delivers, in one transaction: all lines or
    /// none. A chunk that is an error (a malformed record) ends it, rolled
    /// back. `progress` hears after each chunk.
    ///
    /// # Errors
    /// [`PostingError`] naming the line; nothing was posted.
    pub async fn post_stream(
        &self,
        client: &Client,
        chunks: &mut Receiver<Result<Vec<Posting>, PostingError>>,
        progress: &(dyn Fn(&StreamSummary) + Sync),
    ) -> Result<StreamSummary, PostingError> {
        client.batch_execute("BEGIN").await.map_err(from_db)?;
        let outcome = self.post_chunks(client, chunks, progress).await;
        match outcome {
            Ok(summary) => {
                client.batch_execute("COMMIT").await.map_err(from_db)?;
                Ok(summary)
            }
            Err(failed) => {
                let _ = client.batch_execute("ROLLBACK").await;
                Err(match failed {
                    ChunkError::Posting(e) => e,
                    ChunkError::Database(rows, e) => self.name_the_unknown(client, &rows, e).await,
                })
            }
        }
    }

    async fn post_chunks(
        &self,
        client: &Client,
        chunks: &mut Receiver<Result<Vec<Posting>, PostingError>>,
        progress: &(dyn Fn(&StreamSummary) + Sync),
    ) -> Result<StreamSummary, ChunkError> {
        let mut summary = StreamSummary::default();
        while let Some(chunk) = chunks.recv().await {
            let chunk = chunk.map_err(ChunkError::Posting)?;
            let rows = checked_from(&chunk, summary.lines + 1).map_err(ChunkError::Posting)?;
            summary.lines += chunk.len();
            match self.post_in_transaction(client, &rows).await {
                Ok(posted) => summary.add(&posted),
                Err(e) => return Err(ChunkError::Database(rows, e)),
            }
            progress(&summary);
        }
        if summary.lines == 0 {
            return Err(ChunkError::Posting(PostingError::Empty));
        }
        Ok(summary)
    }
}
