//! Weighing lock hazards by the live tables they fall on: each names the
//! table's row estimate and size, and a hazard on an empty table (or one
//! the database does not have yet) is lowered one severity.

use std::collections::hash_map::{Entry, HashMap};

use tokio_postgres::Client;

use crate::finding::{Family, Finding, Weight};
use crate::Report;

/// Row estimate and total size of a relation, by name as written (NULLs
/// when it does not exist). `to_regclass` resolves an unqualified name
/// through the session's search_path, as the migration would.
const SIZE: &str = "SELECT c.reltuples::float8::bigint AS rows, \
            pg_total_relation_size(c.oid) AS bytes \
     FROM pg_class c WHERE c.oid = to_regclass($1)";

/// A table's weight, or None when the database has no such table.
async fn weight(client: &Client, table: &str) -> Result<Option<Weight>, tokio_postgres::Error> {
    let row = client.query_opt(SIZE, &[&table]).await?;
    Ok(row.map(|r| Weight {
        rows: r.get("rows"),
        bytes: r.get("bytes"),
    }))
}

/// Weighs a report: its lock findings and its statements' locks (each
/// table asked once).
///
/// # Errors
/// A query error.
pub async fn weigh_report(
    client: &Client,
    report: &mut Report,
) -> Result<(), tokio_postgres::Error> {
    let mut weights: HashMap<String, Option<Weight>> = HashMap::new();
    let tables = report
        .findings
        .iter()
        .filter(|f| f.family == Family::Locks)
        .filter_map(|f| f.table.clone())
        .chain(report.locks.iter().map(|l| l.table.clone()));
    for table in tables {
        if let Entry::Vacant(slot) = weights.entry(table) {
            let w = weight(client, slot.key()).await?;
            slot.insert(w);
        }
    }
    for f in report
        .findings
        .iter_mut()
        .filter(|f| f.family == Family::Locks)
    {
        if let Some(table) = f.table.clone() {
            apply(f, &table, weights.get(&table).cloned().flatten());
        }
    }
    for lock in &mut report.locks {
        lock.weight = weights.get(&lock.table).cloned().flatten();
    }
    Ok(())
}

/// Names the table's weight in the finding; lowers it one severity on an
/// empty table or one the database does not have yet.
fn apply(f: &mut Finding, table: &str, weight: Option<Weight>) {
    match weight {
        Some(w) => {
            f.message = format!("{} [{table}: {}]", f.message, describe(&w));
            // Never analysed (-1, or 0 before PostgreSQL 14) and this small: empty.
            if w.rows <= 0 && w.bytes <= 64 * 1024 {
                f.severity = f.severity.milder();
                f.downgraded = Some(format!("{table} is empty"));
            }
            f.weight = Some(w);
        }
        None => {
            f.severity = f.severity.milder();
            f.downgraded = Some(format!("{table} does not exist yet in this database"));
        }
    }
}

/// `4.2M rows, 1.1 GB` (rows unknown until the table is analysed).
pub fn describe(w: &Weight) -> String {
    let rows = if w.rows < 0 {
        "rows unknown (never analysed)".to_string()
    } else {
        format!(
            "{} rows",
            compact(w.rows as f64, &["", "k", "M", "G"], 1000.0)
        )
    };
    format!("{rows}, {}", bytes(w.bytes))
}

fn compact(mut n: f64, units: &[&str], step: f64) -> String {
    let mut unit = 0;
    while n >= step && unit + 1 < units.len() {
        n /= step;
        unit += 1;
    }
    if unit == 0 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}{}", units[unit])
    }
}

fn bytes(b: i64) -> String {
    let text = compact(b as f64, &[" B", " kB", " MB", " GB", " TB"], 1024.0);
    if b < 1024 {
        format!("{b} B")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_dba_says_them() {
        let w = Weight {
            rows: 4_200_000,
            bytes: 1_181_116_006,
        };
        assert_eq!(describe(&w), "4.2M rows, 1.1 GB");
        assert_eq!(
            describe(&Weight {
                rows: -1,
                bytes: 8192
            }),
            "rows unknown (never analysed), 8.0 kB"
        );
        assert_eq!(
            describe(&Weight {
                rows: 12,
                bytes: 100
            }),
            "12 rows, 100 B"
        );
    }
}
