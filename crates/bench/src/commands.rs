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
    let mut out = Vec::new();
    let commands: [(&str, Vec<&str>); 7] = [
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
    ];
    for (label, args) in commands {
        let mut full = vec!["-q"];
        full.extend(args);
        let ran = process::run(&settings.mantis, &full, &url)?;
        out.push((label.to_string(), ran.peak_kib, ran.wall));
    }
    Ok(out)
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
