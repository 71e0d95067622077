//! `mantis report`: valuation, product summary and low-stock alerts from the
//! views, saying when the views were last refreshed.

use anyhow::Result;
use chrono::{DateTime, Utc};
use mantis_inventory::reports::{self, Severity};
use serde::Serialize;

use crate::args::OutputFormat;
use crate::args::{ReportKind, SeverityArg};
use crate::cmd::books;
use crate::context::Context;
use crate::output;

pub async fn run(ctx: &Context, report: ReportKind) -> Result<()> {
    let client = books::client(ctx, books::VIEWS, "reports").await?;
    let format = ctx.format;
    match report {
        ReportKind::Valuation => {
            let rows = reports::valuation(&client).await?;
            let refreshed = rows.iter().map(|r| r.refreshed_at).min();
            show(format, &rows, refreshed, "no warehouses")
        }
        ReportKind::Summary { filter, limit } => {
            let rows = reports::summary(&client, filter.as_deref(), limit).await?;
            let refreshed = rows.iter().map(|r| r.refreshed_at).min();
            show(format, &rows, refreshed, "no products match")
        }
        ReportKind::LowStock { severity, limit } => {
            let severity = match severity {
                SeverityArg::OutOfStock => Severity::OutOfStock,
                SeverityArg::Critical => Severity::Critical,
                SeverityArg::Low => Severity::Low,
            };
            let rows = reports::low_stock(&client, severity, limit).await?;
            let refreshed = rows.iter().map(|r| r.refreshed_at).min();
            show(format, &rows, refreshed, "no low-stock alerts")
        }
    }
}

fn show<T: Serialize>(
    format: OutputFormat,
    rows: &[T],
    refreshed: Option<DateTime<Utc>>,
    empty: &str,
) -> Result<()> {
    output::rows(format, rows, empty)?;
    match refreshed {
        Some(at) if format == OutputFormat::Text => {
            let age = Utc::now().signed_duration_since(at);
            output::write(&format!(
                "\nviews last refreshed {} ({} min ago); `mantis refresh` brings them up to date\n",
                at.format("%Y-%m-%d %H:%M:%S UTC"),
                age.num_minutes()
            ))
        }
        _ => Ok(()),
    }
}
