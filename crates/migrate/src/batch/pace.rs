//! How big the next batch is, and how long to wait before it.
//!
//! Like a TCP sender, a batched statement does not know the server's
//! capacity when it starts: the first batch is a sixteenth of the file's
//! `rows=`, and batches double while they finish within their target time
//! (slow start). The first batch over target ends slow start: from then on
//! a batch within target grows by a quarter at most, and one over target
//! shrinks in proportion, by a fifth at least (GitLab's batched background
//! migrations grow 10 % and shrink 20 %). A batch cut at its lock budget
//! (cancelled by `statement_timeout`, rolled back) is tried again at a
//! quarter of its size.

use std::time::Duration;

use super::BatchSpec;

/// The first batch's share of `rows=`.
const FIRST_SHARE: u64 = 16;
/// Growth per batch during slow start, and after it.
const SLOW_START_GROWTH: f64 = 2.0;
const STEADY_GROWTH: f64 = 1.25;
/// Shrink per batch over target: in proportion, between these.
const MOST_SHRINK: f64 = 0.25;
const LEAST_SHRINK: f64 = 0.8;
/// A cut batch is tried again at this share of its size.
const CUT_SHARE: u64 = 4;

/// The size of batches to come, carried from batch to batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pace {
    /// The next batch's size, in rows.
    pub(crate) size: u64,
    /// Still doubling: no batch has gone over target yet.
    pub(crate) slow_start: bool,
}

impl Pace {
    /// The pace of a statement's first batch.
    pub(crate) fn start(spec: &BatchSpec) -> Pace {
        Pace {
            size: (spec.rows / FIRST_SHARE).max(1),
            slow_start: true,
        }
    }

    /// After a batch of the current size that took `took` (its commit
    /// included: its row locks are held until it ends).
    pub(crate) fn after(self, spec: &BatchSpec, took: Duration) -> Pace {
        let ratio = spec.time.as_secs_f64() / took.as_secs_f64().max(0.000_1);
        let within = took <= spec.time;
        let factor = if within {
            let most = if self.slow_start {
                SLOW_START_GROWTH
            } else {
                STEADY_GROWTH
            };
            ratio.min(most)
        } else {
            ratio.clamp(MOST_SHRINK, LEAST_SHRINK)
        };
        let mut size = scale(self.size, factor);
        if factor > 1.0 {
            // A quarter of one row rounds to nothing: a batch cut down to
            // one row would stay there for the rest of the statement.
            size = size.max(self.size + 1);
        }
        Pace {
            size: size.clamp(1, spec.rows),
            slow_start: self.slow_start && within,
        }
    }

    /// After a batch cut at its budget: a quarter of its size, slow start over.
    pub(crate) fn cut(self) -> Pace {
        Pace {
            size: (self.size / CUT_SHARE).max(1),
            slow_start: false,
        }
    }

    /// Halved: the server's commits are slow. Never under the first
    /// batch's size (waits, not ever smaller batches, let the flush queue
    /// drain; a batch of one row would take the whole night).
    pub(crate) fn halved(self, spec: &BatchSpec) -> Pace {
        Pace {
            size: (self.size / 2).max(Pace::start(spec).size).min(self.size),
            slow_start: false,
        }
    }
}

fn scale(size: u64, factor: f64) -> u64 {
    (size as f64 * factor).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> BatchSpec {
        BatchSpec::parse("table=t key=k rows=1600 time=40ms").unwrap()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_batch_cut_down_to_one_row_grows_back() {
        let spec = spec();
        let mut pace = Pace::start(&spec);
        for _ in 0..4 {
            pace = pace.cut();
        }
        assert_eq!(pace.size, 1);
        let mut batches = 0;
        while pace.size < spec.rows {
            pace = pace.after(&spec, ms(1));
            batches += 1;
            assert!(batches < 60, "stuck at {} rows", pace.size);
        }
        assert!(!pace.slow_start);
    }

    #[test]
    fn batches_start_small_and_double_while_within_target() {
        let spec = spec();
        let mut pace = Pace::start(&spec);
        assert_eq!(pace.size, 100, "a sixteenth of rows=");
        let mut sizes = Vec::new();
        for _ in 0..5 {
            pace = pace.after(&spec, ms(5));
            sizes.push(pace.size);
        }
        assert_eq!(sizes, [200, 400, 800, 1600, 1600], "never above rows=");
        assert!(pace.slow_start);
    }

    #[test]
    fn growth_follows_the_target_within_its_limits() {
        let spec = spec();
        let pace = Pace {
            size: 400,
            slow_start: true,
        };
        assert_eq!(pace.after(&spec, ms(32)).size, 500, "in proportion");
        let steady = Pace {
            size: 400,
            slow_start: false,
        };
        assert_eq!(
            steady.after(&spec, ms(5)).size,
            500,
            "a quarter at most after slow start"
        );
        assert_eq!(steady.after(&spec, ms(40)).size, 400, "on target");
    }

    #[test]
    fn a_batch_over_target_ends_slow_start_and_shrinks_fast() {
        let spec = spec();
        let pace = Pace {
            size: 800,
            slow_start: true,
        };
        let over = pace.after(&spec, ms(42));
        assert_eq!(over.size, 640, "a fifth at least");
        assert!(!over.slow_start);
        assert_eq!(pace.after(&spec, ms(80)).size, 400, "in proportion");
        assert_eq!(pace.after(&spec, ms(900)).size, 200, "a quarter at most");
        let one = Pace {
            size: 1,
            slow_start: false,
        };
        assert_eq!(one.after(&spec, ms(900)).size, 1, "never zero");
    }

    #[test]
    fn a_cut_batch_is_tried_at_a_quarter() {
        let pace = Pace {
            size: 800,
            slow_start: true,
        };
        assert_eq!(
            pace.cut(),
            Pace {
                size: 200,
                slow_start: false
            }
        );
        assert_eq!(pace.cut().cut().cut().cut().cut().size, 1);
        let spec = spec();
        assert_eq!(pace.halved(&spec).size, 400);
        let small = Pace {
            size: 150,
            slow_start: false,
        };
        assert_eq!(small.halved(&spec).size, 100, "not under the first size");
        let cut = Pace {
            size: 20,
            slow_start: false,
        };
        assert_eq!(cut.halved(&spec).size, 20, "a cut batch stays as small");
    }
}
