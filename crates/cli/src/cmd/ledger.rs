//! `mantis ledger archive --before DATE` and `mantis ledger unarchive`: the
//! ledger's old movements moved behind carried balances, and back. Progress
//! goes to stderr (unless --quiet); the result to stdout, text or JSON.

use std::time::{Duration, Instant};

use anyhow::Result;
use mantis_inventory::archive::{self, ArchiveError, Archived};

use crate::args::LedgerCommand;
use crate::cmd::books;
use crate::context::Context;
use crate::exit::Fail;
use crate::output;

/// How often progress is written while a run goes on.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

pub async fn run(ctx: Context, command: LedgerCommand) -> Result<()> {
    match command {
        LedgerCommand::Archive {
            before,
            batching,
            session,
        } => {
            let ctx = ctx.needing_session("ledger archive", &session)?;
            let client = books::client(&ctx, books::LEDGER, "ledger archive").await?;
            let done = archive::archive(
                &client,
                before,
                batching.batching(),
                progress(&ctx, "archive"),
            )
            .await
            .map_err(refusal)?;
            output::emit(ctx.format, &done, || archived_text(&done))
        }
        LedgerCommand::Unarchive { batching, session } => {
            let ctx = ctx.needing_session("ledger unarchive", &session)?;
            let client = books::client(&ctx, books::LEDGER, "ledger unarchive").await?;
            let done =
                archive::unarchive(&client, batching.batching(), progress(&ctx, "unarchive"))
                    .await
                    .map_err(refusal)?;
            output::emit(ctx.format, &done, || unarchived_text(&done))
        }
    }
}

/// A line on stderr every few seconds: how far the run is.
fn progress(ctx: &Context, what: &'static str) -> impl FnMut(&Archived) {
    let quiet = ctx.quiet;
    let mut last = Instant::now();
    move |done: &Archived| {
        if quiet || last.elapsed() < PROGRESS_EVERY {
            return;
        }
        last = Instant::now();
        eprintln!(
            "ledger {what}: {} products, {} movements moved, {:.0?} so far",
            done.products, done.movements, done.elapsed
        );
    }
}

fn refusal(e: ArchiveError) -> anyhow::Error {
    match e {
        ArchiveError::Future(_) | ArchiveError::Busy => Fail::refused(e.to_string()),
        ArchiveError::Database(e) => anyhow::Error::new(e).context(
            "the batch in progress was rolled back; the batches before it stay done: run the same command again to carry on",
        ),
        other => anyhow::Error::new(other),
    }
}

fn archived_text(done: &Archived) -> String {
    let before = done.before.map(|d| d.to_string()).unwrap_or_default();
    let mut text = format!(
        "archived {} movement(s) created before {before} from {} stock row(s), behind {} carried balance(s), in {} batch(es) ({:.1?}, longest batch {:.0?})\n",
        done.movements, done.stock_rows, done.carried, done.batches, done.elapsed, done.longest_batch
    );
    if done.kept > 0 {
        text.push_str(&format!(
            "kept {} stock row(s) whose old movements net to zero quantity but not to zero value (no movement can carry that)\n",
            done.kept
        ));
    }
    text
}

fn unarchived_text(done: &Archived) -> String {
    format!(
        "put back {} movement(s) and removed {} carried balance(s), in {} batch(es) ({:.1?})\n",
        done.movements, done.carried, done.batches, done.elapsed
    )
}
