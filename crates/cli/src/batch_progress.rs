//! Progress of batched statements: a bar with rows and ETA on a terminal, a
//! line per tenth of the table elsewhere (logs, CI).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use mantis_migrate::types::BatchPass;
use mantis_migrate::BatchProgress;

/// The batched statement being shown.
struct Current {
    key: (u64, usize, BatchPass),
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
    /// walk passed another tenth of its rows.
    pub fn batch(&self, p: &BatchProgress) -> Option<String> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.as_ref().map(|c| c.key) != Some((p.version, p.index, p.pass)) {
            if let Some(bar) = current.take().and_then(|c| c.bar) {
                bar.finish_and_clear();
            }
            *current = Some(start(p));
        }
        let c = current.as_mut()?;
        let (done, total) = (p.rows_done, p.rows_total);
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
            "  {:03} line {}: {}{} {}% ({done} of ~{total} rows, last batch {} rows in {} ms{})",
            p.version,
            p.line,
            p.table,
            walk_name(p.pass),
            (done.saturating_mul(100) / total.max(1)).min(100),
            p.batch_rows,
            p.batch_time.as_millis(),
            eta(c, done, total)
        ))
    }

    /// The statement ended: the bar goes away.
    pub fn finish(&self, version: u64, index: usize) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current
            .as_ref()
            .is_some_and(|c| (c.key.0, c.key.1) == (version, index))
        {
            if let Some(bar) = current.take().and_then(|c| c.bar) {
                bar.finish_and_clear();
            }
        }
    }
}

fn start(p: &BatchProgress) -> Current {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(p.rows_total);
        bar.set_style(
            ProgressStyle::with_template(
                "  {msg} [{bar:30}] {human_pos}/{human_len} rows, {per_sec}, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!(
            "{:03} line {}: {}{}",
            p.version,
            p.line,
            p.table,
            walk_name(p.pass)
        ));
        bar
    });
    Current {
        key: (p.version, p.index, p.pass),
        bar,
        started: Instant::now(),
        first_done: p.rows_done,
        tenth: 0,
    }
}

/// How the walk is named after the table: nothing for the usual key walk;
/// an `order=physical` statement walks pages, then keys (the rows that moved).
fn walk_name(pass: BatchPass) -> &'static str {
    match pass {
        BatchPass::Pages => " by page",
        BatchPass::Keys => "",
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
    use std::time::Duration;

    fn progress(index: usize, pass: BatchPass, done: u64) -> BatchProgress {
        BatchProgress {
            version: 3,
            index,
            line: 350,
            table: "core.t".into(),
            pass,
            rows_done: done,
            rows_total: 1000,
            batch_rows: 50,
            batch_time: Duration::from_millis(5),
        }
    }

    #[test]
    fn without_a_terminal_a_line_is_printed_per_tenth() {
        let bars = BatchBars::default();
        let lines: Vec<String> = (1..=20)
            .filter_map(|i| bars.batch(&progress(7, BatchPass::Keys, i * 50)))
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
            .batch(&progress(8, BatchPass::Keys, 500))
            .unwrap()
            .contains("50%"));
    }

    #[test]
    fn a_physical_walk_counts_its_page_walk_and_its_key_walk_apart() {
        let bars = BatchBars::default();
        let pages = bars.batch(&progress(7, BatchPass::Pages, 900)).unwrap();
        assert!(pages.contains("core.t by page 90%"), "{pages}");
        let keys = bars.batch(&progress(7, BatchPass::Keys, 200)).unwrap();
        assert!(
            keys.contains("core.t 20%"),
            "a new walk starts at its own tenths: {keys}"
        );
    }
}
