//! From the raw timeline (statement events, lock samples, probe queries) to
//! one line per statement and one summary per probe.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::watch::{strength, LockSample, Probe, ProbeKind, ProbeSample, Samples};
use crate::event::Event;
use crate::source::MigrationSet;

/// What one statement did.
#[derive(Debug, Clone, Serialize)]
pub struct StatementReport {
    /// Migration version.
    pub version: u64,
    /// Index of the statement in its file (0-based).
    pub index: usize,
    /// Line where it starts.
    pub line: usize,
    /// Its first line.
    pub sql: String,
    /// How long it ran (None when it failed).
    #[serde(serialize_with = "crate::serde_time::opt_millis")]
    pub duration: Option<Duration>,
    /// The strongest lock seen per existing table while it ran: (table, mode).
    pub locks: Vec<(String, String)>,
    /// The longest a reader probe waited while it ran: (table, wait).
    pub reader_wait: Option<(String, u64)>,
    /// The longest a writer probe waited while it ran: (table, wait).
    pub writer_wait: Option<(String, u64)>,
    /// WAL the server wrote while it ran, in bytes (every session's: the
    /// probes' and the workload's too), interpolated between samples; None
    /// when the WAL could not be read.
    pub wal_bytes: Option<u64>,
    /// The furthest a standby was behind while it ran, in bytes of WAL not
    /// yet replayed (None: no standby seen).
    pub standby_behind_bytes: Option<u64>,
    /// Full-page images among that WAL, as the server counted them
    /// (`pg_stat_wal.wal_fpi`, every session's; sessions report their counts
    /// up to a second late). None before PostgreSQL 14.
    pub fpi: Option<u64>,
    #[serde(skip)]
    window: (Instant, Instant),
}

impl StatementReport {
    /// `003 #12 (line 140)`.
    pub fn label(&self) -> String {
        format!(
            "{:03} #{} (line {})",
            self.version,
            self.index + 1,
            self.line
        )
    }
}

/// One probe, summed up.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeSummary {
    /// Table.
    pub table: String,
    /// Reader or writer.
    pub kind: ProbeKind,
    /// Queries sent.
    pub queries: usize,
    /// Median latency before the migration started, in microseconds.
    pub baseline_us: u64,
    /// Longest latency while the migration ran, in milliseconds.
    pub longest_ms: u64,
    /// The statement it overlapped most, when it waited longest.
    pub during: Option<String>,
    /// What it was seen waiting for then (`Lock:…` a lock, `LWLock:WALWrite`
    /// or `IO:…` a commit or I/O stall), if it was seen waiting.
    pub waiting_on: Option<String>,
    /// Its longest wait beyond the server-wide stall at the same moment
    /// (what the gate judges); None for the control probe itself.
    pub beyond_stalls: Option<OwnWait>,
    /// Why the probe stopped early, if it did.
    pub error: Option<String>,
}

/// The longest wait of a session beyond the server-wide stalls at the same
/// moment: a query's time less the time a control commit (one that touches
/// no table) was in flight during it, unless the session was seen waiting
/// on a lock then, which no stall excuses. What remains is the wait the
/// migration's locks and batches caused.
#[derive(Debug, Clone, Serialize)]
pub struct OwnWait {
    /// The wait, in milliseconds.
    pub ms: u64,
    /// The statement it overlapped most.
    pub during: Option<String>,
    /// What the session was seen waiting for then.
    pub waiting_on: Option<String>,
}

/// The control probe's queries, against which other waits are weighed.
#[derive(Debug, Clone, Copy)]
pub struct Stalls<'a>(pub &'a [ProbeSample]);

impl<'a> Stalls<'a> {
    /// The control probe's queries among `probes` (none when it did not run).
    pub fn of(probes: &'a [Probe]) -> Stalls<'a> {
        Stalls(
            probes
                .iter()
                .find(|p| p.kind == ProbeKind::Control)
                .map_or(&[], |p| &p.samples),
        )
    }

    /// How much of `took`, starting `at`, was not a server-wide stall:
    /// `took` less the time control commits were in flight during it (one
    /// stall can hold several in turn: a commit waits for the flush after
    /// the one under way), or all of it when `locked` (the session waited
    /// on a lock meanwhile). Outside stalls a control commit is in flight
    /// about a millisecond in every 20, which this also subtracts.
    pub fn beyond(&self, at: Instant, took: Duration, locked: bool) -> Duration {
        if locked {
            return took;
        }
        let span = (at, at + took);
        // One connection's queries, in order: neither their starts nor
        // their ends go back, so the first that ends after `at` is found
        // by binary search, and the walk stops at the first starting after.
        let first = self.0.partition_point(|c| c.at + c.took <= at);
        let stalled: Duration = self.0[first..]
            .iter()
            .take_while(|c| c.at < span.1)
            .map(|c| overlap(span, (c.at, c.at + c.took)))
            .sum();
        took.saturating_sub(stalled)
    }
}

impl ProbeSummary {
    /// What its longest wait happened during and waited on, as text
    /// (" during 003 #4 (line 50), waiting on Lock:relation"), or nothing.
    pub fn circumstances(&self) -> String {
        let part = |label: &str, value: &Option<String>| {
            value
                .as_ref()
                .map(|v| format!("{label}{v}"))
                .unwrap_or_default()
        };
        part(" during ", &self.during) + &part(", waiting on ", &self.waiting_on)
    }
}

/// One report per statement that started, in order.
pub fn statements(
    set: &MigrationSet,
    timeline: &[(Instant, Event)],
    sampled: &Samples,
    probes: &[Probe],
) -> Vec<StatementReport> {
    let mut out = windows(set, timeline);
    for report in &mut out {
        report.locks = strongest(&sampled.locks, report.window);
        report.wal_bytes = growth_between(&sampled.wal, report.window);
        report.standby_behind_bytes = furthest(&sampled.standby, report.window);
        report.fpi = growth_between(&sampled.fpi, report.window);
    }
    for probe in probes {
        attribute_waits(&mut out, probe);
    }
    out
}

/// Each statement that started, with the time it ran (until the timeline's
/// end when it never finished).
fn windows(set: &MigrationSet, timeline: &[(Instant, Event)]) -> Vec<StatementReport> {
    let end = timeline.last().map_or_else(Instant::now, |(t, _)| *t);
    let mut out: Vec<StatementReport> = Vec::new();
    for (at, event) in timeline {
        match event {
            Event::StatementStarted {
                version,
                index,
                line,
            } => out.push(StatementReport {
                version: *version,
                index: *index,
                line: *line,
                sql: first_line(set, *version, *index),
                duration: None,
                locks: Vec::new(),
                reader_wait: None,
                writer_wait: None,
                wal_bytes: None,
                standby_behind_bytes: None,
                fpi: None,
                window: (*at, end),
            }),
            Event::StatementFinished {
                version,
                index,
                duration,
            } => {
                if let Some(s) = out
                    .iter_mut()
                    .rev()
                    .find(|s| s.version == *version && s.index == *index)
                {
                    s.duration = Some(*duration);
                    s.window.1 = *at;
                }
            }
            _ => {}
        }
    }
    out
}

/// Each of the probe's queries, charged to the statement it overlapped most:
/// a statement keeps the longest reader and writer wait it saw.
fn attribute_waits(out: &mut [StatementReport], probe: &Probe) {
    for sample in &probe.samples {
        let span = (sample.at, sample.at + sample.took);
        let Some(best) = most_overlapped(out, span) else {
            continue;
        };
        let ms = millis(sample.took);
        let slot = match probe.kind {
            ProbeKind::Reader => &mut best.reader_wait,
            ProbeKind::Writer => &mut best.writer_wait,
            ProbeKind::Control => return,
        };
        if slot.as_ref().is_none_or(|(_, m)| ms > *m) {
            *slot = Some((probe.table.clone(), ms));
        }
    }
}

/// Each probe's baseline (before `started`) and longest wait (until
/// `finished`), in full and beyond the server-wide stalls the control
/// probe saw.
pub fn probes(
    probes: &[Probe],
    (started, finished): (Instant, Instant),
    statements: &[StatementReport],
    sampled: &Samples,
) -> Vec<ProbeSummary> {
    let control = Stalls::of(probes);
    probes
        .iter()
        .map(|p| {
            let mut before: Vec<Duration> = p
                .samples
                .iter()
                .filter(|s| s.at < started)
                .map(|s| s.took)
                .collect();
            before.sort();
            let baseline = before.get(before.len() / 2).copied().unwrap_or_default();
            let during: Vec<&ProbeSample> = p
                .samples
                .iter()
                .filter(|s| s.at + s.took >= started && s.at <= finished)
                .collect();
            let waiting_on =
                |s: &ProbeSample| sampled.dominant_wait((s.at, s.at + s.took), |w| w.pid == p.pid);
            let longest = during.iter().max_by_key(|s| s.took).copied();
            let beyond_stalls = (p.kind != ProbeKind::Control).then(|| {
                let own = |s: &ProbeSample| {
                    let locked = sampled.locked((s.at, s.at + s.took), |w| w.pid == p.pid);
                    control.beyond(s.at, s.took, locked)
                };
                let worst = during.iter().max_by_key(|s| own(s)).copied();
                OwnWait {
                    ms: worst.map_or(0, |s| millis(own(s))),
                    during: worst.and_then(|s| during_label(statements, s)),
                    waiting_on: worst.and_then(waiting_on),
                }
            });
            ProbeSummary {
                table: p.table.clone(),
                kind: p.kind,
                queries: p.samples.len(),
                baseline_us: u64::try_from(baseline.as_micros()).unwrap_or(u64::MAX),
                longest_ms: longest.map_or(0, |s| millis(s.took)),
                during: longest.and_then(|s| during_label(statements, s)),
                waiting_on: longest.and_then(waiting_on),
                beyond_stalls,
                error: p.error.clone(),
            }
        })
        .collect()
}

/// The statement a query overlapped most, if any.
fn during_label(statements: &[StatementReport], s: &ProbeSample) -> Option<String> {
    let span = (s.at, s.at + s.took);
    statements
        .iter()
        .max_by_key(|r| overlap(r.window, span))
        .filter(|r| overlap(r.window, span) > Duration::ZERO)
        .map(StatementReport::label)
}

fn strongest(samples: &[LockSample], (from, to): (Instant, Instant)) -> Vec<(String, String)> {
    let mut by_table: BTreeMap<String, String> = BTreeMap::new();
    for sample in samples.iter().filter(|s| s.at >= from && s.at <= to) {
        for (table, mode) in &sample.locks {
            let entry = by_table
                .entry(table.clone())
                .or_insert_with(|| mode.clone());
            if strength(mode) > strength(entry) {
                *entry = mode.clone();
            }
        }
    }
    by_table.into_iter().collect()
}

/// The largest sample within `window` (samples are in time order).
fn furthest(samples: &[(Instant, i64)], (from, to): (Instant, Instant)) -> Option<u64> {
    let start = samples.partition_point(|(t, _)| *t < from);
    let end = samples.partition_point(|(t, _)| *t <= to);
    samples[start..end.max(start)]
        .iter()
        .map(|(_, b)| u64::try_from(*b).unwrap_or(0))
        .max()
}

/// How much a growing counter (the WAL position, the full-page images)
/// grew between two instants: its value at each, interpolated between the
/// samples around it (None outside them).
fn growth_between(samples: &[(Instant, i64)], (from, to): (Instant, Instant)) -> Option<u64> {
    let (start, end) = (counter_at(samples, from)?, counter_at(samples, to)?);
    Some(u64::try_from((end - start).max(0.0).round() as i64).unwrap_or(0))
}

fn counter_at(samples: &[(Instant, i64)], at: Instant) -> Option<f64> {
    let after = samples.iter().position(|(t, _)| *t >= at)?;
    let (t1, lsn1) = samples[after];
    if after == 0 {
        return (t1 == at).then_some(lsn1 as f64);
    }
    let (t0, lsn0) = samples[after - 1];
    let span = (t1 - t0).as_secs_f64();
    let part = if span > 0.0 {
        (at - t0).as_secs_f64() / span
    } else {
        1.0
    };
    Some(lsn0 as f64 + (lsn1 - lsn0) as f64 * part)
}

fn most_overlapped(
    reports: &mut [StatementReport],
    span: (Instant, Instant),
) -> Option<&mut StatementReport> {
    reports
        .iter_mut()
        .filter(|r| overlap(r.window, span) > Duration::ZERO)
        .max_by_key(|r| overlap(r.window, span))
}

fn overlap(a: (Instant, Instant), b: (Instant, Instant)) -> Duration {
    let start = a.0.max(b.0);
    let end = a.1.min(b.1);
    end.saturating_duration_since(start)
}

fn first_line(set: &MigrationSet, version: u64, index: usize) -> String {
    let line = set
        .get(version)
        .and_then(|m| m.up.statements.get(index))
        .map(|s| s.sql.lines().next().unwrap_or_default().trim().to_string())
        .unwrap_or_default();
    if line.chars().count() > 72 {
        format!("{}…", line.chars().take(71).collect::<String>())
    } else {
        line
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, ms: u64, took: u64) -> ProbeSample {
        ProbeSample {
            at: t0 + Duration::from_millis(ms),
            took: Duration::from_millis(took),
        }
    }

    /// A wait counts beyond the control's stalls at the same moment, all
    /// of them; a lock wait counts in full; with no control, everything
    /// counts.
    #[test]
    fn a_wait_is_judged_beyond_the_server_wide_stalls_at_the_same_moment() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // The control was stuck from 100 ms to 400 ms, and again from 401
        // to 500 (a commit waiting for the flush after the one under way),
        // quick before and after.
        let control = [
            at(t0, 80, 1),
            at(t0, 100, 300),
            at(t0, 401, 99),
            at(t0, 520, 1),
        ];
        let stalls = Stalls(&control);
        // A writer stuck from 90 to 510 ms: 420 ms, 399 of them the stalls.
        assert_eq!(stalls.beyond(t0 + ms(90), ms(420), false), ms(21));
        // The same wait seen on a lock: all of it is the migration's.
        assert_eq!(stalls.beyond(t0 + ms(90), ms(420), true), ms(420));
        // A wait that began after the stalls had ended: nothing excuses it.
        assert_eq!(stalls.beyond(t0 + ms(600), ms(250), false), ms(250));
        // Partly overlapping (450 to 600 ms): only the overlaps are the
        // stalls' (50 ms, and the quick commit's 1 ms).
        assert_eq!(stalls.beyond(t0 + ms(450), ms(150), false), ms(99));
        // No control (it could not run): the wait in full.
        assert_eq!(Stalls(&[]).beyond(t0, ms(250), false), ms(250));
    }
}
