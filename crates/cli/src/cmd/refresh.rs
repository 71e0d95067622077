//! `mantis refresh [--every 15m]`: the three views, one at a time,
//! concurrently; a failing view is reported and retried at the next tick;
//! Ctrl-C stops cleanly between refreshes.

use std::time::Duration;

use anyhow::Result;
use mantis_inventory::refresh::{self, Refreshed};

use crate::args::OutputFormat;
use crate::cmd::books;
use crate::context::Context;
use crate::exit::Fail;
use crate::output;

pub async fn run(ctx: &Context, every: Option<Duration>) -> Result<()> {
    let client = books::client(ctx, books::VIEWS, "refreshing the views").await?;
    let Some(every) = every else {
        let done = refresh::refresh_all(&client).await;
        report(ctx, &done)?;
        return verdict(&done);
    };
    if every.is_zero() {
        return Err(Fail::usage("--every must be longer than 0s"));
    }
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => {
                let done = refresh::refresh_all(&client).await;
                tick_report(ctx, &done)?;
            }
        }
    }
    eprintln!("refresh: stopped (interrupted)");
    Ok(())
}

/// One refresh's result: a JSON document, or a line per view.
fn report(ctx: &Context, done: &[Refreshed]) -> Result<()> {
    output::emit(ctx.format, done, || lines(done))
}

/// One tick of `--every`: with `--format json`, one compact document per
/// line (JSON Lines), so that a reader can parse each tick as it comes.
fn tick_report(ctx: &Context, done: &[Refreshed]) -> Result<()> {
    match ctx.format {
        OutputFormat::Json => output::write(&format!("{}\n", serde_json::to_string(done)?)),
        _ => output::write(&lines(done)),
    }
}

fn lines(done: &[Refreshed]) -> String {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    done.iter()
        .map(|r| {
            let retry = if r.error.is_some() {
                " (the others went on; it is retried at the next refresh)"
            } else {
                ""
            };
            format!("{now} {}{retry}\n", r.describe())
        })
        .collect()
}

fn verdict(done: &[Refreshed]) -> Result<()> {
    let failed: Vec<&str> = done
        .iter()
        .filter(|r| r.error.is_some())
        .map(|r| r.view)
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(anyhow::anyhow!(
        "{} of {} view(s) failed to refresh: {}",
        failed.len(),
        done.len(),
        failed.join(", ")
    ))
}
