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
    let mut out = Vec::new();
    let commands: [(&str, Vec<&str>); 6] = [
        ("status", vec!["status"]),
        ("health", vec!["health"]),
        ("report valuation", vec!["report", "valuation"]),
        (
            "report summary --limit 1000",
            vec!["report", "summary", "--limit", "1000"],
        ),
        ("stock post (batch file)", vec!["stock", "post", &file]),
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
