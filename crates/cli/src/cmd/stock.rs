//! `mantis stock`: post movements through the ledger and read it back.

use std::path::Path;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use mantis_inventory::batch::{self, Flow, Format as BatchFormat};
use mantis_inventory::{post, reports, Kind, Posted, Poster, Posting};

use crate::args::{LineArgs, OutputFormat, SourceArgs, StockCommand};
use crate::cmd::books;
use crate::context::Context;
use crate::exit::Fail;
use crate::output;

pub async fn run(ctx: &Context, command: StockCommand) -> Result<()> {
    let postings = match command {
        StockCommand::Receive { line, unit_cost } => {
            vec![posting(Kind::Receipt, line).at(unit_cost)]
        }
        StockCommand::Ship { line } => vec![posting(Kind::Shipment, line)],
        StockCommand::Adjust { line, unit_cost } => {
            let p = posting(Kind::Adjustment, line);
            vec![match unit_cost {
                Some(cost) => p.at(cost),
                None => p,
            }]
        }
        StockCommand::Transfer {
            sku,
            from,
            to,
            quantity,
            source,
        } => vec![sourced(
            Posting::new(Kind::Transfer, &sku, &from, quantity).to(&to),
            source,
        )],
        StockCommand::Post { file } => return post_file(ctx, &file).await,
        StockCommand::History {
            sku,
            warehouse,
            limit,
        } => {
            let client = books::client(ctx, books::LEDGER, "stock history").await?;
            let rows = reports::history(&client, &sku, warehouse.as_deref(), limit).await?;
            return output::rows(ctx.format, &rows, &format!("no movements of {sku}"));
        }
        StockCommand::Levels {
            sku,
            warehouse,
            limit,
        } => {
            let client = books::client(ctx, books::LEDGER, "stock levels").await?;
            let rows =
                reports::levels(&client, sku.as_deref(), warehouse.as_deref(), limit).await?;
            return output::rows(ctx.format, &rows, "no stock rows");
        }
    };
    let client = books::client(ctx, books::POSTING, "posting stock").await?;
    let posted = post(&client, &postings).await?;
    output::emit(ctx.format, &posted, || render(&posted))
}

fn posting(kind: Kind, line: LineArgs) -> Posting {
    sourced(
        Posting::new(kind, &line.sku, &line.warehouse, line.quantity),
        line.source,
    )
}

fn sourced(mut posting: Posting, source: SourceArgs) -> Posting {
    posting.reference = source.reference;
    posting.line = source.line;
    posting.idempotency_key = source.idempotency_key;
    posting.notes = source.notes;
    posting
}

/// Lines read and posted per round trip when posting a file.
const CHUNK: usize = 1000;

/// Posts a batch file of any length in one transaction (all lines or none),
/// reading it in chunks while the chunks before are posted: constant memory,
/// a progress counter on stderr, and a summary on stdout.
async fn post_file(ctx: &Context, path: &Path) -> Result<()> {
    let format = BatchFormat::of(path).ok_or_else(|| {
        Fail::usage(format!(
            "{}: a batch file must end in .csv or .json",
            path.display()
        ))
    })?;
    let file = std::fs::File::open(path).map_err(|e| {
        Fail::usage(format!(
            "cannot read batch file {}: {e}; give the path of a .csv or .json file",
            path.display()
        ))
    })?;
    let client = books::client(ctx, books::POSTING, "posting stock").await?;
    let poster = Poster::unnamed();
    let (chunks, mut received) = tokio::sync::mpsc::channel(2);
    let reader = tokio::task::spawn_blocking(move || {
        let input = std::io::BufReader::new(file);
        let read = batch::read_chunks(input, format, CHUNK, &mut |chunk| match chunks
            .blocking_send(Ok(chunk))
        {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Stop,
        });
        if let Err(e) = read {
            let _ = chunks.blocking_send(Err(e));
        }
    });
    let bar = counter(ctx);
    let posted = poster
        .post_stream(&client, &mut received, &|s| {
            bar.set_position(s.lines as u64)
        })
        .await;
    drop(received);
    let _ = reader.await;
    bar.finish_and_clear();
    let summary = posted?;
    output::emit(ctx.format, &summary, || {
        format!(
            "{} movement(s) posted, {} already posted before ({} line(s) of {}); stock value {:+}\n",
            summary.posted,
            summary.already_posted,
            summary.lines,
            path.display(),
            summary.value_change.round_dp(2)
        )
    })
}

/// Lines posted so far, on stderr (hidden with -q, JSON or no terminal).
fn counter(ctx: &Context) -> ProgressBar {
    if ctx.quiet || ctx.format == OutputFormat::Json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} posted {pos} line(s) ({per_sec})") {
        bar.set_style(style);
    }
    bar
}

/// One line per movement, then what changed.
fn render(posted: &[Posted]) -> String {
    let mut out = String::new();
    for p in posted {
        let cost = p.unit_cost.map_or_else(
            || "no known cost".to_string(),
            |c| format!("at {}", c.normalize()),
        );
        let value = p
            .value_delta
            .map(|v| format!(", value {:+}", v.round_dp(2)))
            .unwrap_or_default();
        if p.applied {
            out.push_str(&format!(
                "posted {} {:+} {} in {} {cost}{value} (#{})\n",
                p.movement_type,
                p.quantity.normalize(),
                p.sku,
                p.warehouse,
                p.seq.unwrap_or_default()
            ));
        } else {
            out.push_str(&format!(
                "skipped {} {:+} {} in {}: this source line was already posted\n",
                p.movement_type,
                p.quantity.normalize(),
                p.sku,
                p.warehouse
            ));
        }
    }
    let applied = posted.iter().filter(|p| p.applied).count();
    out.push_str(&format!(
        "{applied} movement(s) posted, {} already posted before\n",
        posted.len() - applied
    ));
    out
}
