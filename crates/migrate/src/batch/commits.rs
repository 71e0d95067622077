//! Batches paced by the server's health: a control commit, on a connection
//! of its own, measures what every session's commit waits for (the WAL
//! flush, the CPU). Its baseline is taken before a run's first batch. After
//! each batch, the control commits of the last second are judged: when the
//! slowest but one of them (one spike is noise, two are a queue) took longer
//! than twice the baseline's p99 (and at least 5 ms more), or the one in
//! flight has already taken twice that, the next batch is halved (never
//! under the statement's first size) and waits until a control commit is
//! back within the bound.
//!
//! The control commit writes a transaction id and nothing else
//! (`txid_current()`): it takes no lock anyone holds, so its time is the
//! flush queue's (and the scheduler's), not a lock wait.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

use crate::event::{Event, EventSink};
use crate::session::Session;
use crate::sql;

/// One control commit every this long.
const EVERY: Duration = Duration::from_millis(50);
/// Control commits in the baseline (1.5 s of them).
const BASELINE_SAMPLES: usize = 30;
/// Samples kept (the last minute).
const KEPT: usize = 1200;
/// Over this many times the baseline's p99, commits are slow…
const SLOW_FACTOR: u32 = 2;
/// … and never under the baseline plus this (a 1 ms baseline doubled is
/// one small flush queued behind another).
const SLOW_FLOOR: Duration = Duration::from_millis(5);
/// The control commits judged after a batch: those of the last second.
const WINDOW: Duration = Duration::from_secs(1);
/// The longest a batch waits for commits to recover before it goes on (at
/// its smallest size); and how often that wait is told.
const MOST_WAIT: Duration = Duration::from_secs(10);
const FIRST_TELL: Duration = Duration::from_secs(1);
const TELL_EVERY: Duration = Duration::from_secs(5);

/// What the control commits took before the first batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Baseline {
    /// Their 99th percentile.
    #[serde(rename = "p99_us", serialize_with = "crate::serde_time::micros")]
    pub p99: Duration,
    /// The longest.
    #[serde(rename = "longest_us", serialize_with = "crate::serde_time::micros")]
    pub longest: Duration,
}

impl Baseline {
    /// A control commit slower than this says the server is struggling.
    pub fn slow(&self) -> Duration {
        (self.p99 * SLOW_FACTOR).max(self.p99 + SLOW_FLOOR)
    }
}

#[derive(Default)]
struct Samples {
    /// (start, duration) of finished control commits, oldest first.
    done: VecDeque<(Instant, Duration)>,
    /// When the commit in progress started.
    in_flight: Option<Instant>,
}

/// Control commits being made, every [`EVERY`], on a connection of their own.
struct Sampler {
    samples: Arc<Mutex<Samples>>,
    task: JoinHandle<()>,
    /// When the first was made.
    since: Instant,
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sampler {
    async fn open(session: &Session) -> Result<Sampler, String> {
        let side = session
            .sibling("control commit")
            .await
            .map_err(|e| format!("no connection for the control commit: {e}"))?;
        side.client()
            .batch_execute(sql::CONTROL_COMMIT)
            .await
            .map_err(|e| format!("the control commit failed: {e}"))?;
        let samples = Arc::new(Mutex::new(Samples::default()));
        let since = Instant::now();
        let task = tokio::spawn(sample(side, Arc::clone(&samples)));
        Ok(Sampler {
            samples,
            task,
            since,
        })
    }
}

/// The control commits of a run, with their baseline taken before its
/// first batch.
pub(crate) struct Control {
    sampler: Sampler,
    baseline: Baseline,
}

/// The run's control commits, opened when a step with batched statements
/// starts ([`CommitWatch::start`]), so that their baseline is taken while
/// the statements before its first batch run; a run without batched
/// statements opens no connection for them.
#[derive(Default)]
pub(crate) struct CommitWatch {
    started: Mutex<Option<Result<Sampler, String>>>,
    control: OnceCell<Option<Control>>,
}

impl CommitWatch {
    /// Starts the control commits, unless they are already going.
    pub(crate) async fn start(&self, session: &Session) {
        let going = self.control.initialized()
            || self
                .started
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some();
        if !going {
            let sampler = Sampler::open(session).await;
            *self.started.lock().unwrap_or_else(|e| e.into_inner()) = Some(sampler);
        }
    }

    /// The control commits, with their baseline (waiting for it when fewer
    /// than [`BASELINE_SAMPLES`] commits were made since they started);
    /// None when their connection could not be opened (the run goes on,
    /// paced by its own commits).
    pub(crate) async fn control(&self, session: &Session, events: &EventSink) -> Option<&Control> {
        self.control
            .get_or_init(|| async {
                let started = self
                    .started
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                let sampler = match started {
                    Some(sampler) => sampler,
                    None => Sampler::open(session).await,
                };
                match Control::with_baseline(sampler).await {
                    Ok(control) => {
                        events(&Event::CommitBaseline {
                            baseline: control.baseline,
                        });
                        Some(control)
                    }
                    Err(reason) => {
                        events(&Event::CommitPacingOff { reason });
                        None
                    }
                }
            })
            .await
            .as_ref()
    }
}

impl Control {
    async fn with_baseline(sampler: Result<Sampler, String>) -> Result<Control, String> {
        let mut control = Control {
            sampler: sampler?,
            baseline: Baseline {
                p99: Duration::ZERO,
                longest: Duration::ZERO,
            },
        };
        control.baseline = control.take_baseline().await?;
        Ok(control)
    }

    async fn take_baseline(&self) -> Result<Baseline, String> {
        let started = self.sampler.since;
        loop {
            let (mut durations, in_flight) = self.since(started);
            durations.extend(in_flight);
            if durations.len() >= BASELINE_SAMPLES {
                return Ok(baseline(durations));
            }
            if self.sampler.task.is_finished() {
                return Err("the control commit's connection closed".into());
            }
            tokio::time::sleep(EVERY).await;
        }
    }

    /// Durations of the control commits that started at or after `since`
    /// and finished, and how long the one in progress has taken so far.
    fn since(&self, since: Instant) -> (Vec<Duration>, Option<Duration>) {
        let samples = self
            .sampler
            .samples
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let finished = samples
            .done
            .iter()
            .filter(|(at, _)| *at >= since)
            .map(|(_, d)| *d)
            .collect();
        (finished, samples.in_flight.map(|at| at.elapsed()))
    }

    /// The slowest control commit of the last second, when commits are
    /// slow (see the module's doc).
    pub(crate) fn slow_now(&self) -> Option<Duration> {
        let (finished, in_flight) = self.since(Instant::now().checked_sub(WINDOW)?);
        judge(&finished, in_flight, self.baseline)
    }

    /// Waits (at most [`MOST_WAIT`]) until a control commit that started now
    /// or later finishes within the baseline's bound, telling a wait that
    /// lasts (a short one after a batch is the pacing's everyday work).
    pub(crate) async fn recover(&self, version: u64, worst: Duration, events: &EventSink) {
        let started = Instant::now();
        let mut told = FIRST_TELL;
        loop {
            let waited = started.elapsed();
            if waited >= told {
                events(&Event::CommitsSlow {
                    version,
                    worst,
                    baseline: self.baseline,
                    waited,
                });
                told += TELL_EVERY;
            }
            let (fresh, _) = self.since(started);
            if fresh.iter().any(|d| *d <= self.baseline.slow())
                || waited >= MOST_WAIT
                || self.sampler.task.is_finished()
            {
                return;
            }
            tokio::time::sleep(EVERY).await;
        }
    }
}

/// Whether control commits are slow: the slowest but one of `finished` over
/// the baseline's bound, or `in_flight` over twice it. Returns the slowest.
fn judge(
    finished: &[Duration],
    in_flight: Option<Duration>,
    baseline: Baseline,
) -> Option<Duration> {
    let bound = baseline.slow();
    let mut sorted = finished.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let queued = sorted.get(1).is_some_and(|d| *d > bound);
    let stuck = in_flight.is_some_and(|d| d > bound * 2);
    let worst = sorted.first().copied().into_iter().chain(in_flight).max()?;
    (queued || stuck).then_some(worst)
}

/// The p99 and the longest of `durations` (not empty).
fn baseline(mut durations: Vec<Duration>) -> Baseline {
    durations.sort();
    let at = ((durations.len() as f64) * 0.99).ceil() as usize;
    Baseline {
        p99: durations[at.clamp(1, durations.len()) - 1],
        longest: durations[durations.len() - 1],
    }
}

/// One control commit every [`EVERY`] until the connection fails or the
/// task is aborted.
async fn sample(side: Session, samples: Arc<Mutex<Samples>>) {
    loop {
        let started = Instant::now();
        samples.lock().unwrap_or_else(|e| e.into_inner()).in_flight = Some(started);
        let result = side.client().batch_execute(sql::CONTROL_COMMIT).await;
        let took = started.elapsed();
        {
            let mut s = samples.lock().unwrap_or_else(|e| e.into_inner());
            s.in_flight = None;
            if result.is_err() {
                return;
            }
            s.done.push_back((started, took));
            if s.done.len() > KEPT {
                s.done.pop_front();
            }
        }
        tokio::time::sleep(EVERY.saturating_sub(took)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_is_the_p99_and_the_longest() {
        let ms = Duration::from_millis;
        let mut durations: Vec<Duration> = (1..=200).map(|n| ms(n % 10 + 1)).collect();
        durations.push(ms(40));
        durations.push(ms(35));
        let b = baseline(durations);
        assert_eq!(b.longest, ms(40));
        assert_eq!(b.p99, ms(10), "two outliers in 202 are above the p99");
        assert_eq!(b.slow(), ms(20));
        let quick = Baseline {
            p99: Duration::from_micros(600),
            longest: ms(1),
        };
        assert_eq!(
            quick.slow(),
            Duration::from_micros(5600),
            "at least 5 ms over"
        );
    }
}
