//! Report queries before 003 (base tables) and after (indexes and views),
//! interleaved on two databases holding the same data.

use std::time::Instant;

use anyhow::{Context as _, Result};
use tokio_postgres::Client;

use crate::stats::Samples;

/// One report, before and after, beside what the seed claimed.
#[derive(Debug, Clone)]
pub struct Report {
    /// What it is.
    pub name: &'static str,
    /// The seed's claim, if it made one.
    pub claim: &'static str,
    /// On the base tables before 003.
    pub before: Samples,
    /// After 003 and 004.
    pub after: Samples,
}

const QUERIES: &[(&str, &str, &str, &str)] = &[
    (
        "valuation per warehouse",
        "500 ms → 100 ms",
        include_str!("../sql/reports/valuation_before.sql"),
        include_str!("../sql/reports/valuation_after.sql"),
    ),
    (
        "product search, name (case-insensitive)",
        "150 ms → 90 ms",
        include_str!("../sql/reports/search_name.sql"),
        include_str!("../sql/reports/search_name.sql"),
    ),
    (
        "product search, SKU (case-insensitive)",
        "150 ms → 90 ms",
        include_str!("../sql/reports/search_sku.sql"),
        include_str!("../sql/reports/search_sku.sql"),
    ),
    (
        "product search, full text",
        "150 ms → 90 ms",
        include_str!("../sql/reports/search_text.sql"),
        include_str!("../sql/reports/search_text.sql"),
    ),
    (
        "brand lookup",
        "10 ms",
        include_str!("../sql/reports/brand_before.sql"),
        include_str!("../sql/reports/brand_after.sql"),
    ),
    (
        "dashboard (valuation + low stock + summary)",
        "800 ms → 200 ms",
        include_str!("../sql/reports/dashboard_before.sql"),
        include_str!("../sql/reports/dashboard_after.sql"),
    ),
];

/// Runs each pair `iterations` times, before and after in turn.
pub async fn measure(before: &Client, after: &Client, iterations: usize) -> Result<Vec<Report>> {
    let mut out = Vec::new();
    for (name, claim, sql_before, sql_after) in QUERIES {
        let mut report = Report {
            name,
            claim,
            before: Samples::default(),
            after: Samples::default(),
        };
        // One untimed run each: plans cached and pages read once.
        before
            .batch_execute(sql_before)
            .await
            .with_context(|| format!("{name}, before"))?;
        after
            .batch_execute(sql_after)
            .await
            .with_context(|| format!("{name}, after"))?;
        for _ in 0..iterations {
            let t = Instant::now();
            before.batch_execute(sql_before).await?;
            report.before.push(t.elapsed());
            let t = Instant::now();
            after.batch_execute(sql_after).await?;
            report.after.push(t.elapsed());
        }
        out.push(report);
    }
    Ok(out)
}
