//! The MantisNXT inventory books on the schema of migrations 003 and 004.
//!
//! - [`models`]: typed rows of every `core` table (decimal money and quantities);
//! - [`posting`]: receipts, shipments, adjustments, transfers, returns and
//!   write-offs, one or a batch in one transaction, under the ledger's rules;
//! - [`batch`]: batches read from CSV or JSON (whole, or in chunks);
//! - [`stream`]: a batch of any length posted chunk by chunk in one transaction;
//! - [`reports`]: valuation, product summary, low-stock alerts, levels, history;
//! - [`refresh`]: the three views, refreshed one at a time, concurrently;
//! - [`catalog`]: brands and supplier contacts;
//! - [`reference`]: the posting rule as a pure function (the tests' oracle);
//! - [`workload`]: the shop's traffic (postings and direct writes) for rehearsals
//!   and tests under load, and the invariants checked after it.
//!
//! The rules themselves live in the database (migration 004), so every client
//! gets them; this crate never prints.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod archive;
pub mod batch;
pub mod catalog;
pub mod decimal;
mod duration;
pub mod error;
pub mod kinds;
pub mod maintain;
pub mod models;
pub mod posting;
pub mod reference;
pub mod refresh;
pub mod reports;
mod sql;
mod statements;
pub mod stream;
pub mod workload;

pub use error::{CatalogError, PostingError};
pub use posting::{post, Kind, Posted, Poster, Posting};
pub use stream::StreamSummary;
