#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! The harness's smoke mode runs end to end and writes every section. It
//! must run, not be fast: speed is judged from docs/BENCHMARKS.md.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_smoke_mode_writes_every_section_of_the_report() {
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_mantis-bench"));
    let mantis = bench.with_file_name("mantis");
    assert!(
        mantis.exists(),
        "{} is missing: build the workspace first (cargo build --workspace)",
        mantis.display()
    );
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("BENCHMARKS.md");
    let ran = Command::new(&bench)
        .args(["--mode", "smoke", "--out"])
        .arg(&report)
        .arg("--mantis")
        .arg(&mantis)
        .env(
            "DATABASE_URL",
            mantis_testkit::server().to_url_with_password(),
        )
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let text = std::fs::read_to_string(&report).unwrap();
    for section in [
        "## Reproduce",
        "## Machine",
        "## Targets",
        "## Seed and migrations",
        "## Readers, writers and the shop during 003 and 004",
        "## Ledger posting",
        "## Ledger housekeeping at 300 products",
        "## Reports at 300 products",
        "## Memory",
    ] {
        assert!(text.contains(section), "{section} missing:\n{text}");
    }
    // Housekeeping: archive, maintain and unarchive ran under writers, and
    // moved what was created in 2025.
    for command in [
        "| `mantis ledger archive --before 2026-01-01` |",
        "| `mantis maintain` |",
        "| `mantis ledger unarchive` |",
    ] {
        assert!(text.contains(command), "{command} missing:\n{text}");
    }
    assert!(text.contains("carried balances"), "{text}");
    // 003 by mantis and by psql, and 004–006, each with the WAL it wrote.
    let row = text
        .lines()
        .skip_while(|l| !l.starts_with("## Seed and migrations"))
        .find(|l| l.starts_with("| 300 |"))
        .unwrap();
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    for wal in [cells[8], cells[9], cells[11]] {
        let (number, unit) = wal.split_once(' ').unwrap();
        assert!(number.parse::<f64>().unwrap() > 0.0, "{row}");
        assert!(["MB", "GB"].contains(&unit), "{row}");
    }
    assert!(
        text.contains("| tool overhead ≤ 5% over psql (003, 300 products) |"),
        "{text}"
    );
    assert!(
        text.contains("| dashboard (valuation + low stock + summary) | 800 ms → 200 ms |"),
        "{text}"
    );
    assert!(
        text.contains("| `stock post` of a long file in constant memory (< 50 MB; stock post (2000 lines, streamed)) |"),
        "{text}"
    );
    assert_eq!(
        text.matches("| posting ≥ 50% of plain INSERTs").count(),
        4,
        "{text}"
    );
    // The online rehearsal ran 003 and 004 with the workload and checked it,
    // on a quiet server and on a busy one.
    for server in ["quiet", "busy"] {
        assert!(
            text.contains(&format!("| no reader or writer waits > 100 ms beyond the server-wide stalls during 003 and 004, workload invariants hold (300 products, {server} server) |")),
            "{text}"
        );
        // The control commit's row, beside the probes of the tables.
        assert!(
            text.contains(&format!("| 300 | {server} | - | control |")),
            "{text}"
        );
    }
    assert!(
        text.contains("quantity on hand = sum of movements: holds"),
        "{text}"
    );
}
