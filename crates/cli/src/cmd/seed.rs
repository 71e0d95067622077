//! `mantis seed`: deterministic MantisNXT data, loaded with COPY.

use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use mantis_datagen::{Counts, Progress, Spec};
use mantis_migrate::Session;

use crate::args::OutputFormat;
use crate::context::Context;
use crate::output;

pub async fn run(ctx: &Context, spec: &Spec) -> Result<()> {
    let session = ctx.session().await?;
    let (counts, elapsed) = load(ctx, &session, spec).await?;
    let doc = serde_json::json!({
        "spec": { "seed": spec.seed, "products": spec.products, "warehouses": spec.warehouses },
        "tables": counts.tables.iter().map(|(t, n)| serde_json::json!({"table": t, "rows": n})).collect::<Vec<_>>(),
        "rows": counts.total(),
        "duration_ms": elapsed.as_millis() as u64,
    });
    output::emit(ctx.format, &doc, || render(spec, &counts, elapsed))
}

/// Seeds with a progress bar on stderr (hidden with -q, JSON or no terminal).
async fn load(ctx: &Context, session: &Session, spec: &Spec) -> Result<(Counts, Duration)> {
    let bar = progress_bar(ctx, spec.products);
    let on_progress = |p: Progress| show(&bar, &p);
    let started = Instant::now();
    let counts = mantis_datagen::seed(session.client(), spec, &on_progress).await;
    bar.finish_and_clear();
    Ok((counts?, started.elapsed()))
}

/// Moves the seed's bar.
pub fn show(bar: &ProgressBar, p: &Progress) {
    bar.set_length(p.total);
    bar.set_position(p.done);
    bar.set_message(p.table);
}

/// The seed's bar on stderr (hidden with -q, JSON or no terminal).
pub fn progress_bar(ctx: &Context, products: u64) -> ProgressBar {
    if ctx.quiet || ctx.format == OutputFormat::Json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(products);
    if let Ok(style) = ProgressStyle::with_template("seed {bar:30} {percent:>3}% {msg} ({elapsed})")
    {
        bar.set_style(style);
    }
    bar
}

/// Row counts per table and the load rate.
pub fn render(spec: &Spec, counts: &Counts, elapsed: Duration) -> String {
    let mut out = format!(
        "seeded {} products x {} warehouses (seed {}) in {:.1} s:\n",
        spec.products,
        spec.warehouses,
        spec.seed,
        elapsed.as_secs_f64()
    );
    for (table, rows) in &counts.tables {
        out.push_str(&format!("  {table:<24} {rows:>9}\n"));
    }
    let rate = counts.total() as f64 / elapsed.as_secs_f64().max(0.001);
    out.push_str(&format!(
        "  {:<24} {:>9} rows ({:.0} rows/s)\n",
        "total",
        counts.total(),
        rate
    ));
    out
}
