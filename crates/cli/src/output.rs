//! Writing results to stdout.

use anyhow::Result;
use serde::Serialize;

/// Prints `value` as one pretty JSON document.
pub fn json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `003` style version, or `none`.
pub fn version(v: Option<u64>) -> String {
    v.map_or_else(|| "none".to_string(), |v| format!("{v:03}"))
}

/// How a listing is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Aligned columns.
    Table,
    /// A JSON array.
    Json,
    /// CSV with a header row.
    Csv,
}

impl Listing {
    /// The listing format the command line asked for.
    pub fn of(ctx: &crate::context::Context) -> Listing {
        if ctx.csv {
            Listing::Csv
        } else if ctx.format == crate::args::Format::Json {
            Listing::Json
        } else {
            Listing::Table
        }
    }
}

/// Writes rows (structs whose fields are the columns, in order) as a table,
/// JSON or CSV. An empty listing prints `empty` in a table.
pub fn rows<T: Serialize>(format: Listing, rows: &[T], empty: &str) -> Result<()> {
    match format {
        Listing::Json => json(&rows),
        Listing::Csv => {
            print!("{}", String::from_utf8(csv_bytes(rows)?)?);
            Ok(())
        }
        Listing::Table if rows.is_empty() => {
            println!("{empty}");
            Ok(())
        }
        Listing::Table => {
            print!("{}", table(&csv_bytes(rows)?)?);
            Ok(())
        }
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
