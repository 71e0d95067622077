//! A server that is not quiet, for the online rehearsal's busy run: every
//! core of the machine spinning, and a write load beside the shop's
//! workload (another tenant committing small inserts as fast as it can, in
//! a database of its own on the same server: its WAL flushes queue with the
//! migration's).

use anyhow::Result;
use mantis_testkit::BusyCores;
use tokio::task::JoinHandle;

use crate::db::Server;

/// The write load's database.
const LOAD_DB: &str = "mantis_bench_write_load";
/// One insert of this many rows per commit.
const ROWS_PER_COMMIT: i32 = 50;

/// The load, running until dropped.
pub struct Busy {
    _cores: BusyCores,
    writer: JoinHandle<()>,
}

impl Busy {
    /// Starts the spinning cores and the write load.
    pub async fn start(server: &Server) -> Result<Busy> {
        server.drop(LOAD_DB).await?;
        server.create(LOAD_DB, None).await?;
        let client = server.client(LOAD_DB).await?;
        client
            .batch_execute("CREATE TABLE load (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)")
            .await?;
        let writer = tokio::spawn(async move {
            let insert = format!(
                "INSERT INTO load (payload) SELECT repeat('x', 200) FROM generate_series(1, {ROWS_PER_COMMIT})"
            );
            while client.batch_execute(&insert).await.is_ok() {}
        });
        Ok(Busy {
            _cores: BusyCores::start(),
            writer,
        })
    }

    /// Stops the load and drops its database.
    pub async fn stop(self, server: &Server) -> Result<()> {
        self.writer.abort();
        drop(self);
        server.drop(LOAD_DB).await
    }
}
