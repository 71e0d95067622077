//! Streams rows into `COPY ... FROM STDIN` (text format) in chunks, so memory
//! stays flat at any scale.

use std::fmt::Display;
use std::pin::Pin;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::SinkExt;
use tokio_postgres::{Client, CopyInSink};

use crate::error::SeedError;

/// Bytes buffered before they are sent.
const CHUNK: usize = 256 * 1024;

/// One running COPY.
pub struct CopyWriter {
    table: &'static str,
    sink: Pin<Box<CopyInSink<Bytes>>>,
    buf: BytesMut,
    rows: u64,
    first_field: bool,
}

impl CopyWriter {
    /// Starts `COPY table (columns) FROM STDIN`.
    pub async fn start(
        client: &Client,
        table: &'static str,
        columns: &[&str],
    ) -> Result<CopyWriter, SeedError> {
        let statement = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let sink = client
            .copy_in(&statement)
            .await
            .map_err(SeedError::copy(table))?;
        Ok(CopyWriter {
            table,
            sink: Box::pin(sink),
            buf: BytesMut::with_capacity(CHUNK + 4096),
            rows: 0,
            first_field: true,
        })
    }

    fn separate(&mut self) {
        if !self.first_field {
            self.buf.put_u8(b'\t');
        }
        self.first_field = false;
    }

    /// A text field, escaped for the text format.
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.separate();
        for byte in value.bytes() {
            match byte {
                b'\\' => self.buf.put_slice(b"\\\\"),
                b'\t' => self.buf.put_slice(b"\\t"),
                b'\n' => self.buf.put_slice(b"\\n"),
                b'\r' => self.buf.put_slice(b"\\r"),
                other => self.buf.put_u8(other),
            }
        }
        self
    }

    /// A value whose Display form needs no escaping (numbers, UUIDs, booleans).
    pub fn plain(&mut self, value: impl Display) -> &mut Self {
        self.separate();
        self.buf.put_slice(value.to_string().as_bytes());
        self
    }

    /// NULL.
    pub fn null(&mut self) -> &mut Self {
        self.separate();
        self.buf.put_slice(b"\\N");
        self
    }

    /// A nullable text field.
    pub fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// A nullable plain field.
    pub fn opt_plain(&mut self, value: Option<impl Display>) -> &mut Self {
        match value {
            Some(v) => self.plain(v),
            None => self.null(),
        }
    }

    /// Ends the row; sends the buffer once it is large enough.
    pub async fn end_row(&mut self) -> Result<(), SeedError> {
        self.buf.put_u8(b'\n');
        self.first_field = true;
        self.rows += 1;
        if self.buf.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), SeedError> {
        let chunk = self.buf.split().freeze();
        self.sink
            .send(chunk)
            .await
            .map_err(SeedError::copy(self.table))
    }

    /// Sends what is left and ends the COPY; returns the rows written.
    pub async fn finish(mut self) -> Result<u64, SeedError> {
        if !self.buf.is_empty() {
            self.flush().await?;
        }
        self.sink
            .as_mut()
            .finish()
            .await
            .map_err(SeedError::copy(self.table))?;
        Ok(self.rows)
    }
}
