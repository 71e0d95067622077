//! Progress of batched statements: a bar with rows and ETA on a terminal, a
//! line per tenth of the table elsewhere (logs, CI).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// The batched statement being shown.
struct Current {
    key: (u64, usize),
    bar: Option<ProgressBar>,
    started: Instant,
    first_done: u64,
    tenth: u64,
}

/// Shows `BatchProgress` events; one batched statement at a time.
#[derive(Default)]
pub struct BatchBars {
    current: Mutex<Option<Current>>,
}

impl BatchBars {
    /// A batch committed: moves the bar, or returns a line to print when the
    /// statement passed another tenth of its rows.
    #[allow(clippy::too_many_arguments)]
    pub fn batch(
        &self,
        version: u64,
        index: usize,
        line: usize,
        table: &str,
        done: u64,
        total: u64,
        batch_rows: u64,
        batch_time: Duration,
    ) -> Option<String> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.as_ref().map(|c| c.key) != Some((version, index)) {
            *current = Some(start(version, index, line, table, total, done));
        }
        let c = current.as_mut()?;
        if let Some(bar) = &c.bar {
            bar.set_length(total);
            bar.set_position(done);
            return None;
        }
        let tenth = done.saturating_mul(10) / total.max(1);
        if tenth <= c.tenth {
            return None;
        }
        c.tenth = tenth;
        Some(format!(
            "  {version:03} line {line}: {table} {}% ({done} of ~{total} rows, last batch {batch_rows} rows in {} ms{})",
            (done.saturating_mul(100) / total.max(1)).min(100),
            batch_time.as_millis(),
            eta(c, done, total)
        ))
    }

    /// The statement ended: the bar goes away.
    pub fn finish(&self, version: u64, index: usize) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.as_ref().map(|c| c.key) == Some((version, index)) {
            if let Some(bar) = current.take().and_then(|c| c.bar) {
                bar.finish_and_clear();
            }
        }
    }
}

fn start(version: u64, index: usize, line: usize, table: &str, total: u64, done: u64) -> Current {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "  {msg} [{bar:30}] {human_pos}/{human_len} rows, {per_sec}, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("{version:03} line {line}: {table}"));
        bar
    });
    Current {
        key: (version, index),
        bar,
        started: Instant::now(),
        first_done: done,
        tenth: 0,
    }
}

fn eta(c: &Current, done: u64, total: u64) -> String {
    let rate =
        (done - c.first_done.min(done)) as f64 / c.started.elapsed().as_secs_f64().max(0.001);
    if rate <= 0.0 || done >= total {
        return String::new();
    }
    format!(", ETA {:.0}s", (total - done) as f64 / rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_terminal_a_line_is_printed_per_tenth() {
        let bars = BatchBars::default();
        let ms = Duration::from_millis(5);
        let lines: Vec<String> = (1..=20)
            .filter_map(|i| bars.batch(3, 7, 350, "core.t", i * 50, 1000, 50, ms))
            .collect();
        assert_eq!(lines.len(), 10, "{lines:#?}");
        assert!(
            lines[0].contains("003 line 350: core.t 10% (100 of ~1000 rows"),
            "{}",
            lines[0]
        );
        assert!(lines[9].contains("100%"), "{}", lines[9]);
        bars.finish(3, 7);
        assert!(bars
            .batch(3, 8, 360, "core.u", 500, 1000, 50, ms)
            .unwrap()
            .contains("50%"));
    }
}
