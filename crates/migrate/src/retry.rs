//! Pauses between attempts of work cancelled by `lock_timeout`: exponential,
//! capped, with jitter so that runners (or batches) that collided do not
//! collide again in step.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::blockers::LockWatch;
use crate::event::{Event, EventSink};
use crate::types::Blocker;

/// The first pause.
const BASE: Duration = Duration::from_millis(200);
/// The longest pause.
const CAP: Duration = Duration::from_secs(10);

/// The pause after failed attempt `attempt` (1-based): `BASE × 2^(attempt-1)`,
/// capped, then scaled by a random factor in [0.5, 1.0).
pub(crate) fn backoff(attempt: u32) -> Duration {
    let exponential = BASE.saturating_mul(1 << attempt.saturating_sub(1).min(10));
    exponential.min(CAP).mul_f64(0.5 + jitter() / 2.0)
}

/// How work cancelled by `lock_timeout` is tried again: a statement, a
/// `BEGIN … COMMIT` block or a batch, each attempt from its start.
pub(crate) struct LockRetry<'a> {
    /// Who holds the lock, watched from a second connection while it runs.
    pub(crate) watch: &'a LockWatch,
    pub(crate) lock_timeout: Duration,
    /// Attempts in all (retries + 1).
    pub(crate) attempts: u32,
    /// The migration, for the retry events.
    pub(crate) version: u64,
    pub(crate) events: &'a EventSink,
}

impl LockRetry<'_> {
    /// Runs `attempt` until it succeeds, fails otherwise than by
    /// `lock_timeout` (`timed_out` returns the message of a failure that
    /// did), or has been tried `attempts` times. Between attempts: a growing
    /// pause with jitter, announced with who held the lock. A failure comes
    /// back with the sessions last seen holding a lock it waited for.
    pub(crate) async fn run<T, E, F, Fut>(
        &self,
        mut attempt: F,
        timed_out: impl Fn(&E) -> Option<String>,
    ) -> Result<T, (E, Vec<Blocker>)>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut tried = 1;
        loop {
            let (result, seen) = self.watch.during(attempt(), self.lock_timeout).await;
            let e = match result {
                Ok(done) => return Ok(done),
                Err(e) => e,
            };
            match timed_out(&e) {
                Some(message) if tried < self.attempts => {
                    let pause = backoff(tried);
                    (self.events)(&Event::LockTimeoutRetry {
                        version: self.version,
                        attempt: tried,
                        attempts: self.attempts,
                        backoff: pause,
                        message,
                        blockers: seen,
                    });
                    tokio::time::sleep(pause).await;
                    tried += 1;
                }
                _ => return Err((e, seen)),
            }
        }
    }
}

/// Cheap random choices (xorshift), seeded differently in every process:
/// enough to spread probes over rows, not for anything secret.
pub(crate) struct Picker(u64);

impl Picker {
    pub(crate) fn new() -> Picker {
        Picker(RandomState::new().build_hasher().finish() | 1)
    }

    /// A number in `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// A number in [0, 1) that differs between calls and processes.
fn jitter() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(std::process::id().into());
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_stay_capped_and_vary() {
        for attempt in 1..=20 {
            let nominal = BASE.saturating_mul(1 << (attempt - 1).min(10)).min(CAP);
            let pause = backoff(attempt);
            assert!(
                pause >= nominal / 2 && pause < nominal,
                "{attempt}: {pause:?}"
            );
        }
        let samples: std::collections::HashSet<Duration> = (0..20).map(|_| backoff(3)).collect();
        assert!(samples.len() > 1, "no jitter: {samples:?}");
    }

    #[test]
    fn the_picker_spreads_over_every_choice() {
        let mut pick = Picker::new();
        let mut seen = [0usize; 10];
        for _ in 0..10_000 {
            seen[pick.below(10)] += 1;
        }
        assert!(seen.iter().all(|n| (700..1300).contains(n)), "{seen:?}");
    }
}
