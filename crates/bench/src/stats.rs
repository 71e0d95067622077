//! Medians, percentiles and spread of repeated measurements.

use std::time::Duration;

/// Repeated measurements of one thing.
#[derive(Debug, Clone, Default)]
pub struct Samples(pub Vec<Duration>);

impl Samples {
    /// Adds one measurement.
    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.clone();
        v.sort();
        v
    }

    /// The `p`-th percentile (nearest rank), 0 when empty.
    pub fn percentile(&self, p: f64) -> Duration {
        let v = self.sorted();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1]
    }

    /// The median.
    pub fn median(&self) -> Duration {
        self.percentile(50.0)
    }

    /// (min, max).
    pub fn spread(&self) -> (Duration, Duration) {
        let v = self.sorted();
        (
            v.first().copied().unwrap_or_default(),
            v.last().copied().unwrap_or_default(),
        )
    }
}

/// `1.23 s` or `45.6 ms` or `789 µs`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.001 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// `median (min–max)`.
pub fn median_spread(s: &Samples) -> String {
    let (lo, hi) = s.spread();
    format!("{} ({}–{})", human(s.median()), human(lo), human(hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let s = Samples((1..=10).map(Duration::from_millis).collect());
        assert_eq!(s.median(), Duration::from_millis(5));
        assert_eq!(s.percentile(95.0), Duration::from_millis(10));
        assert_eq!(
            s.spread(),
            (Duration::from_millis(1), Duration::from_millis(10))
        );
        assert_eq!(Samples::default().median(), Duration::ZERO);
        assert_eq!(human(Duration::from_micros(1500)), "1.5 ms");
    }
}
