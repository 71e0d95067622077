//! `mantis stock`: post movements through the ledger and read it back.

use std::path::Path;

use anyhow::Result;
use mantis_inventory::batch::{self, Format as BatchFormat};
use mantis_inventory::{post, reports, Kind, Posted, Posting};

use crate::args::{LineArgs, SourceArgs, StockCommand};
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
        StockCommand::Post { file } => read_batch(&file)?,
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
    let client = books::client(ctx, books::LEDGER, "posting stock").await?;
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

fn read_batch(path: &Path) -> Result<Vec<Posting>> {
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
    Ok(batch::read(std::io::BufReader::new(file), format)?)
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
