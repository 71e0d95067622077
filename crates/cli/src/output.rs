//! The one way results reach stdout: a result is a serializable value and
//! its text; `--format` picks which is written. A reader that closes stdout
//! early (`mantis report summary | head -1`) ends the command quietly.

use std::io::Write as _;

use anyhow::Result;
use serde::Serialize;

use crate::args::OutputFormat;

/// stdout was closed by its reader: the command stops and exits 0, silently
/// (like `cat` in a pipe).
#[derive(Debug, thiserror::Error)]
#[error("stdout was closed by its reader")]
pub struct StdoutClosed;

/// Writes a command's result: one pretty JSON document with `--format json`,
/// else the text `text` makes (junit and csv are refused earlier for results
/// that are not a verify report or a listing).
pub fn emit<T: Serialize + ?Sized>(
    format: OutputFormat,
    value: &T,
    text: impl FnOnce() -> String,
) -> Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Sarif => json(value),
        OutputFormat::Text | OutputFormat::Junit | OutputFormat::Csv => write(&text()),
    }
}

/// Writes `value` as one pretty JSON document.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write(&text)
}

/// Writes text to stdout; a closed stdout is [`StdoutClosed`], not a panic.
pub fn write(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        other => Ok(other?),
    }
}

/// Whether an error only says that stdout was closed.
pub fn is_closed_stdout(error: &anyhow::Error) -> bool {
    error.chain().any(|e| e.is::<StdoutClosed>())
}

/// `003` style version, or `none`.
pub fn version(v: Option<u64>) -> String {
    v.map_or_else(|| "none".to_string(), |v| format!("{v:03}"))
}

/// Writes rows (structs whose fields are the columns, in order) as aligned
/// columns, a JSON array or CSV with a header row. An empty table prints
/// `empty`.
pub fn rows<T: Serialize>(format: OutputFormat, rows: &[T], empty: &str) -> Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Sarif => json(rows),
        OutputFormat::Csv => write(&String::from_utf8(csv_bytes(rows)?)?),
        OutputFormat::Text | OutputFormat::Junit if rows.is_empty() => write(&format!("{empty}\n")),
        OutputFormat::Text | OutputFormat::Junit => write(&table(&csv_bytes(rows)?)?),
    }
}
fn csv_bytes<T: Serialize>(rows: &[T]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row)?;
    }
    Ok(writer.into_inner()?)
}

/// Aligned columns from CSV: numbers right-aligned, text left-aligned.
fn table(csv_text: &[u8]) -> Result<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text);
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_string).collect()))
        .collect::<Result<_, _>>()?;
    let columns = records.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            records
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric: Vec<bool> = (0..columns)
        .map(|c| {
            records
                .iter()
                .skip(1)
                .all(|r| r[c].is_empty() || r[c].parse::<rust_decimal::Decimal>().is_ok())
        })
        .collect();
    let mut out = String::new();
    for record in &records {
        let cells: Vec<String> = record
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if numeric[c] {
                    format!("{cell:>width$}", width = widths[c])
                } else {
                    format!("{cell:<width$}", width = widths[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    Ok(out)
}
