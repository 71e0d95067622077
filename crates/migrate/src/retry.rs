//! Pauses between attempts of work cancelled by `lock_timeout`: exponential,
//! capped, with jitter so that runners (or batches) that collided do not
//! collide again in step.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

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
