//! Shows engine events on stderr as they happen (stdout stays for results).

use std::sync::Arc;
use std::time::Duration;

use mantis_migrate::{Event, EventSink};

use crate::args::LogFormat;
use crate::batch_progress::BatchBars;

/// A sink printing to stderr; `quiet` keeps only what needs a human's attention.
pub fn stderr_sink(quiet: bool, format: LogFormat) -> EventSink {
    if format == LogFormat::Json {
        return json_sink(quiet);
    }
    let bars = BatchBars::default();
    Arc::new(move |event| {
        let line = match event {
            Event::BatchProgress(_) if quiet => None,
            Event::BatchProgress(progress) => bars.batch(progress),
            Event::StatementFinished { version, index, .. } => {
                bars.finish(*version, *index);
                describe(event, quiet)
            }
            _ => describe(event, quiet),
        };
        if let Some(line) = line {
            eprintln!("{line}");
        }
    })
}

/// One JSON object per event and line; `quiet` keeps the events the text
/// keeps.
fn json_sink(quiet: bool) -> EventSink {
    Arc::new(move |event| {
        if quiet && describe(event, true).is_none() {
            return;
        }
        match serde_json::to_string(event) {
            Ok(line) => eprintln!("{line}"),
            Err(e) => tracing::warn!(error = %e, "an event could not be written as JSON"),
        }
    })
}

pub fn describe(event: &Event, quiet: bool) -> Option<String> {
    match event {
        Event::LockWaiting {
            holder,
            waited,
            limit,
        } => Some(format!(
            "waiting for the migration lock held by {} ({} so far, giving up after {})",
            holder
                .as_ref()
                .map_or("another session".to_string(), |h| h.to_string()),
            secs(*waited),
            secs(*limit)
        )),
        _ if quiet => None,
        Event::Connected {
            target,
            server_version,
        } => Some(format!(
            "connected to {target} (PostgreSQL {server_version})"
        )),
        Event::LockAcquired { waited } if *waited >= Duration::from_millis(500) => {
            Some(format!("got the migration lock after {}", secs(*waited)))
        }
        Event::MigrationStarted {
            version,
            name,
            direction,
            file,
            resume_at,
        } => {
            let resume = if *resume_at > 0 {
                format!(", resuming at statement {}", resume_at + 1)
            } else {
                String::new()
            };
            Some(format!("{direction} {version:03}_{name} ({file}{resume})"))
        }
        Event::BatchResumed {
            version,
            line,
            table,
            at,
        } => Some(format!(
            "  {version:03} line {line}: {table}: resuming at {at}"
        )),
        Event::LockTimeoutRetry {
            version,
            attempt,
            attempts,
            backoff,
            message,
            blockers,
        } => {
            let mut text = format!(
                "  {version:03}: {message} (attempt {attempt} of {attempts}); retrying in {}",
                secs(*backoff)
            );
            for blocker in blockers {
                text.push_str(&format!("\n    waiting for {blocker}"));
            }
            Some(text)
        }
        Event::ReplicationLag {
            version,
            standby,
            limit,
            waited,
        } => Some(format!(
            "  {version:03}: batches held {}: standby {} is {} behind (--max-replication-lag {limit})",
            secs(*waited),
            standby.name,
            standby_behind(standby)
        )),
        Event::ReplicationCaughtUp { version, waited } => Some(format!(
            "  {version:03}: standbys caught up after {}; batches go on",
            secs(*waited)
        )),
        Event::StandbysUnseen { version, standbys } => Some(format!(
            "  {version:03}: this role cannot see how far behind {} {} (GRANT pg_monitor TO it): batches do not wait for {}",
            standbys.join(", "),
            if standbys.len() == 1 { "is" } else { "are" },
            if standbys.len() == 1 { "it" } else { "them" },
        )),
        Event::BatchCut {
            version,
            line,
            table,
            rows,
            next_rows,
            hold,
        } => Some(format!(
            "  {version:03} line {line}: {table}: a batch of {rows} rows ran past its lock budget ({} ms); rolled back, trying {next_rows}",
            hold.as_millis()
        )),
        Event::BatchBudgetRaised {
            version,
            line,
            table,
            hold,
        } => Some(format!(
            "  {version:03} line {line}: {table}: one key takes longer than its lock budget on this server now; budget raised to {} ms",
            hold.as_millis()
        )),
        Event::CommitBaseline { baseline } => Some(format!(
            "  control commit: p99 {:.1} ms, longest {:.1} ms before the first batch; batches slow down when a commit takes over {:.1} ms",
            ms(baseline.p99),
            ms(baseline.longest),
            ms(baseline.slow())
        )),
        Event::CommitPacingOff { reason } => Some(format!(
            "  batches are paced by their own commits only: {reason}"
        )),
        Event::CommitsSlow {
            version,
            worst,
            baseline,
            waited,
        } => Some(format!(
            "  {version:03}: commits are slow (a control commit took {:.0} ms, baseline p99 {:.1} ms): batches halved, waiting {}",
            ms(*worst),
            ms(baseline.p99),
            secs(*waited)
        )),
        Event::InvalidIndexDropped { version, index } => Some(format!(
            "  {version:03}: dropped INVALID index {index} left by an interrupted CREATE INDEX CONCURRENTLY; building it again"
        )),
        Event::UserObjectsFire { version, objects } => Some(format!(
            "  {version:03}: --user-triggers fire: these act on every row it writes:\n{}",
            objects
                .iter()
                .map(|o| format!("    - {o}"))
                .collect::<Vec<_>>()
                .join("\n")
        )),
        Event::Notice {
            severity,
            message,
            detail,
            hint,
        } => {
            let mut text = format!("  {severity}: {message}");
            for (label, value) in [("DETAIL", detail), ("HINT", hint)] {
                if let Some(value) = value {
                    text.push_str(&format!("\n  {label}: {value}"));
                }
            }
            Some(text)
        }
        Event::MigrationFinished {
            version,
            name,
            direction,
            duration,
        } => Some(format!(
            "  done {direction} {version:03}_{name} in {} ms",
            duration.as_millis()
        )),
        _ => None,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// How far behind a standby is: bytes and, when known, time.
fn standby_behind(standby: &mantis_migrate::batch::Standby) -> String {
    let bytes = standby.behind.map_or(
        "an unknown amount".to_string(),
        mantis_migrate::batch::bytes,
    );
    match standby.lag {
        Some(lag) => format!("{bytes} / {}", secs(lag)),
        None => bytes,
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
