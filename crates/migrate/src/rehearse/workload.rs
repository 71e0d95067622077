//! An application's own traffic during a rehearsal: a hook the caller gives
//! (mantis runs the inventory's receipts, shipments and direct writes), its
//! latency before and during the migrations, and the invariants it checks
//! afterwards.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::report::Stalls;
use super::watch::{ProbeSample, Samples};
use crate::connect::ConnectOptions;

/// What a workload reports when it has stopped.
#[derive(Debug, Clone, Default)]
pub struct WorkloadRun {
    /// Each operation: when it was sent and how long it took.
    pub samples: Vec<ProbeSample>,
    /// Operations a rule of the application refused (nothing changed).
    pub refused: usize,
    /// Operations that failed otherwise, with the server's message.
    pub failures: Vec<String>,
    /// What was checked afterwards.
    pub invariants: Vec<InvariantCheck>,
    /// Why the workload could not run, if it could not.
    pub error: Option<String>,
}

/// One invariant the workload checked afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvariantCheck {
    /// What must hold.
    pub name: String,
    /// Rows checked.
    pub rows: i64,
    /// Rows where it does not hold.
    pub violations: i64,
}

type Run = Pin<Box<dyn Future<Output = WorkloadRun> + Send>>;

/// Starts the workload on the copy; it runs until the flag is set, then
/// checks its invariants and returns.
#[derive(Clone)]
pub struct WorkloadHook(pub Arc<dyn Fn(ConnectOptions, Arc<AtomicBool>) -> Run + Send + Sync>);

impl fmt::Debug for WorkloadHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WorkloadHook")
    }
}

/// The workload, summed up.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadSummary {
    /// Operations sent.
    pub operations: usize,
    /// Refused by a rule of the application.
    pub refused: usize,
    /// Failed otherwise.
    pub failed: usize,
    /// Up to five distinct failure messages.
    pub failures: Vec<String>,
    /// Latency before the migrations started (ms): median and 99th percentile.
    pub baseline_p50_ms: f64,
    /// 99th percentile before.
    pub baseline_p99_ms: f64,
    /// Median while the migrations ran.
    pub during_p50_ms: f64,
    /// 99th percentile while the migrations ran.
    pub during_p99_ms: f64,
    /// Longest operation while the migrations ran.
    pub during_max_ms: f64,
    /// What the workload's sessions were seen waiting for during it.
    pub slowest_waiting_on: Option<String>,
    /// The longest wait of an operation beyond the server-wide stall at
    /// the same moment (what the gate judges; report::Stalls).
    pub during_max_beyond_stalls_ms: f64,
    /// What the workload's sessions were seen waiting for during that one.
    pub beyond_stalls_waiting_on: Option<String>,
    /// Invariants checked afterwards.
    pub invariants: Vec<InvariantCheck>,
    /// Why it could not run, if it could not.
    pub error: Option<String>,
}

impl WorkloadSummary {
    /// Sums up `run` around the migrations' `started`..`finished`; what its
    /// sessions (application_name `… workload`) waited for during the slowest
    /// operation comes from `sampled`, the server-wide stalls from `stalls`.
    pub fn of(
        run: WorkloadRun,
        (started, finished): (Instant, Instant),
        sampled: &Samples,
        stalls: Stalls<'_>,
    ) -> WorkloadSummary {
        let workload = |w: &super::watch::WaitSample| w.application.ends_with("workload");
        let span = |s: &ProbeSample| (s.at, s.at + s.took);
        let during_run: Vec<&ProbeSample> = run
            .samples
            .iter()
            .filter(|s| s.at + s.took >= started && s.at <= finished)
            .collect();
        let slowest = during_run.iter().max_by_key(|s| s.took);
        let slowest_waiting_on = slowest.and_then(|s| sampled.dominant_wait(span(s), workload));
        let own = |s: &ProbeSample| stalls.beyond(s.at, s.took, sampled.locked(span(s), workload));
        let worst_own = during_run.iter().max_by_key(|s| own(s));
        let beyond_stalls_waiting_on =
            worst_own.and_then(|s| sampled.dominant_wait(span(s), workload));
        let mut before: Vec<Duration> = Vec::new();
        let mut during: Vec<Duration> = Vec::new();
        for s in &run.samples {
            if s.at + s.took < started {
                before.push(s.took);
            } else if s.at <= finished {
                during.push(s.took);
            }
        }
        let mut failures = run.failures.clone();
        failures.sort();
        failures.dedup();
        failures.truncate(5);
        WorkloadSummary {
            operations: run.samples.len(),
            refused: run.refused,
            failed: run.failures.len(),
            failures,
            baseline_p50_ms: percentile(&mut before, 0.50),
            baseline_p99_ms: percentile(&mut before, 0.99),
            during_p50_ms: percentile(&mut during, 0.50),
            during_p99_ms: percentile(&mut during, 0.99),
            during_max_ms: percentile(&mut during, 1.0),
            slowest_waiting_on,
            during_max_beyond_stalls_ms: worst_own.map_or(0.0, |s| own(s).as_secs_f64() * 1000.0),
            beyond_stalls_waiting_on,
            invariants: run.invariants,
            error: run.error,
        }
    }
}

/// The `q` quantile (nearest rank) in milliseconds; 0 for no samples.
fn percentile(samples: &mut [Duration], q: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort();
    let rank = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_split_at_the_migrations_and_ranked() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let sample = |at: u64, took: u64| ProbeSample {
            at: t0 + ms(at),
            took: ms(took),
        };
        let mut samples: Vec<ProbeSample> = (0..100).map(|i| sample(i, 1)).collect();
        samples.extend((0..99).map(|i| sample(1000 + i, 2)));
        samples.push(sample(1200, 90));
        samples.push(sample(5000, 500)); // after the migrations: not counted
        let run = WorkloadRun {
            samples,
            failures: vec!["b".into(), "a".into(), "a".into()],
            ..WorkloadRun::default()
        };
        let s = WorkloadSummary::of(
            run,
            (t0 + ms(500), t0 + ms(2000)),
            &Samples::default(),
            Stalls(&[]),
        );
        assert_eq!((s.baseline_p50_ms, s.baseline_p99_ms), (1.0, 1.0));
        assert_eq!(
            (s.during_p50_ms, s.during_p99_ms, s.during_max_ms),
            (2.0, 2.0, 90.0)
        );
        assert_eq!(s.during_max_beyond_stalls_ms, 90.0, "no control: in full");
        assert_eq!((s.operations, s.failed), (201, 3));
        assert_eq!(s.failures, vec!["a".to_string(), "b".to_string()]);
    }

    /// The slowest operation is judged beyond the stall a control commit
    /// saw at the same moment; another, shorter one stuck on its own is then
    /// the one the gate sees.
    #[test]
    fn the_workload_is_judged_beyond_the_server_wide_stalls() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let sample = |at: u64, took: u64| ProbeSample {
            at: t0 + ms(at),
            took: ms(took),
        };
        let run = WorkloadRun {
            samples: vec![sample(1000, 300), sample(2000, 120), sample(3000, 2)],
            ..WorkloadRun::default()
        };
        let control = [sample(990, 305)];
        let s = WorkloadSummary::of(
            run,
            (t0 + ms(500), t0 + ms(4000)),
            &Samples::default(),
            Stalls(&control),
        );
        assert_eq!(s.during_max_ms, 300.0);
        assert_eq!(s.during_max_beyond_stalls_ms, 120.0);
    }
}
