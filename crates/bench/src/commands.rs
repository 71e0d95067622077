//! Peak memory and wall time of the everyday commands, on a database at
//! the newest migration.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Result;

use crate::db::Server;
use crate::process;
use crate::Settings;

/// (command, peak KiB, wall) of each everyday command on database `name`.
pub fn measure(
    settings: &Settings,
    server: &Server,
    name: &str,
) -> Result<Vec<(String, u64, Duration)>> {
    let url = server.url(name);
    let batch = tempfile::Builder::new().suffix(".csv").tempfile()?;
    let mut csv = String::from("kind,sku,warehouse,quantity,unit_cost\n");
    for i in 0..settings.movements {
        let _ = writeln!(
            csv,
            "receipt,SKU-{:07},JHB-01,{},12.50",
            1 + i % 100,
            1 + i % 7
        );
    }
    std::fs::write(batch.path(), csv)?;
    let file = batch.path().display().to_string();
    let products = settings.scales.last().copied().unwrap_or(100);
    let long = long_batch(settings.post_lines, products)?;
    let long_file = long.path().display().to_string();
    let long_label = format!("stock post ({} lines, streamed)", settings.post_lines);
    let data_dir = data_migration()?;
    let data_arg = data_dir.path().display().to_string();
    let mut out = Vec::new();
    let commands: [(&str, Vec<&str>); 8] = [
        ("status", vec!["status"]),
        ("health", vec!["health"]),
        ("report valuation", vec!["report", "valuation"]),
        (
            "report summary --limit 1000",
            vec!["report", "summary", "--limit", "1000"],
        ),
        ("stock post (batch file)", vec!["stock", "post", &file]),
        (&long_label, vec!["stock", "post", &long_file]),
        ("refresh", vec!["refresh"]),
        (
            "lint (a 3.5 MB data migration: one INSERT)",
            vec!["lint", &data_arg],
        ),
    ];
    for (label, args) in commands {
        let mut full = vec!["-q"];
        full.extend(args);
        let ran = process::run(&settings.mantis, &full, &url)?;
        out.push((label.to_string(), ran.peak_kib, ran.wall));
    }
    Ok(out)
}

/// A directory with one data migration: a single INSERT of 3.5 MB (33,536
/// products), the kind of file a team loads reference data with; lint reads
/// it whole before a deploy.
fn data_migration() -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let mut sql = String::from(
        "INSERT INTO core.products (sku, name, description, unit_of_measure, min_stock_level) VALUES\n",
    );
    let mut i = 0;
    while sql.len() < 3_500_000 {
        let _ = writeln!(
            sql,
            "{}('BULK-{i:07}', 'Bulk product {i} (it''s fine)', 'imported from the legacy ERP, batch {}', 'EA', {})",
            if i == 0 { "" } else { "," },
            i % 97,
            i % 50
        );
        i += 1;
    }
    sql.push_str(";\n");
    std::fs::write(dir.path().join("002_bulk_products.up.sql"), sql)?;
    Ok(dir)
}

/// A batch file of `lines` receipts spread over the first `products`
/// products (as a day's postings are), each its own source line
/// (idempotent), written line by line.
fn long_batch(lines: usize, products: u64) -> Result<tempfile::NamedTempFile> {
    let file = tempfile::Builder::new().suffix(".csv").tempfile()?;
    let mut out = std::io::BufWriter::new(file.reopen()?);
    std::io::Write::write_all(
        &mut out,
        b"kind,sku,warehouse,quantity,unit_cost,reference,line\n",
    )?;
    for i in 0..lines {
        std::io::Write::write_fmt(
            &mut out,
            format_args!(
                "receipt,SKU-{:07},CPT-01,1,3.25,PO-LONG,{}\n",
                1 + (i as u64) % products.max(1),
                i + 1
            ),
        )?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(file)
}
