#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! The output contract: every subcommand honours `--format json` (stdout is
//! one JSON document, on success and on failure), a reader closing stdout
//! early is a quiet success, and options belong to the commands that use them.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use common::{backfill_dir, mantis, run, scalar, small_spec, Dir, Run};
use mantis_testkit::TestDb;

/// The subcommands `mantis PATH --help` lists (without `help`).
fn subcommands(path: &[String]) -> Vec<String> {
    let out = mantis().args(path).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Every runnable command, as its path of names (`stock receive`).
fn leaves(path: Vec<String>) -> Vec<String> {
    let children = subcommands(&path);
    if children.is_empty() {
        return vec![path.join(" ")];
    }
    children
        .into_iter()
        .flat_map(|child| {
            let mut longer = path.clone();
            longer.push(child);
            leaves(longer)
        })
        .collect()
}

/// Runs `args` with `--format json` and asserts stdout is exactly one JSON
/// document, whatever the exit code; returns it.
fn json_of(db: &TestDb, args: &[&str], code: i32) -> serde_json::Value {
    let mut with_format = vec!["--format", "json"];
    with_format.extend_from_slice(args);
    let out = run(db, &with_format).expect_code(code);
    let doc = one_document(&out, args);
    if code != 0 && code != 8 {
        assert!(
            doc.get("error").is_some(),
            "`{}` failed without an error document: {doc}",
            args.join(" ")
        );
    }
    doc
}

fn one_document(out: &Run, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "`mantis --format json {}`: stdout is not one JSON document ({e}):\n{}\n--- stderr\n{}",
            args.join(" "),
            out.stdout,
            out.stderr
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subcommand_writes_one_json_document() {
    let fresh = TestDb::at_version("out_json_fresh", 1).await;
    let books = TestDb::seeded("out_json_books", &small_spec(), 6).await;
    let dir = Dir::with(&[]);
    let backup = dir.file("books.dump");
    let backup = backup.to_str().unwrap();
    let log = dir.file("deploy.log");
    let log = log.to_str().unwrap();
    let batch = dir.file("batch.json");
    let restored = format!("{}_r", books.name());
    let demo = format!("{}_d", books.name());
    let sku = scalar(&books, "SELECT min(sku) FROM core.products").await;
    let warehouses = scalar(
        &books,
        "SELECT string_agg(code, ',' ORDER BY code) FROM core.warehouses",
    )
    .await;
    let warehouses: Vec<&str> = warehouses.split(',').collect();
    let (from, to) = (warehouses[0], warehouses[1]);
    let supplier = scalar(&books, "SELECT min(name) FROM core.suppliers").await;
    std::fs::write(
        &batch,
        format!(r#"[{{"kind": "receipt", "sku": "{sku}", "warehouse": "{from}", "quantity": "2", "unit_cost": "3.50"}}]"#),
    )
    .unwrap();
    let line = [
        "--sku",
        sku.as_str(),
        "--warehouse",
        from,
        "--quantity",
        "1",
    ];
    let with = |extra: &[&'static str]| -> Vec<String> {
        line.iter().chain(extra).map(|s| s.to_string()).collect()
    };

    // (command, database, arguments after the command, exit code)
    let cases: Vec<(&str, &TestDb, Vec<String>, i32)> = vec![
        ("seed", &fresh, args(&["--products", "50"]), 0),
        ("deploy", &fresh, args(&["--dry-run", "--log", log]), 0),
        ("rehearse", &fresh, vec![], 0),
        ("status", &books, vec![], 0),
        ("plan", &books, args(&["--down"]), 0),
        ("up", &books, vec![], 0),
        ("down", &books, args(&["--dry-run"]), 0),
        ("baseline", &books, args(&["--version", "4"]), 5),
        ("saved", &books, vec![], 0),
        ("verify", &books, args(&["--coverage", "warning"]), 0),
        ("health", &books, vec![], 0),
        ("lint", &books, vec![], 0),
        ("backup", &books, args(&["--file", backup]), 0),
        ("restore", &books, args(&[backup, "--into", &restored]), 0),
        ("stock receive", &books, with(&["--unit-cost", "2.25"]), 0),
        ("stock ship", &books, with(&[]), 0),
        ("stock adjust", &books, with(&[]), 0),
        (
            "stock transfer",
            &books,
            args(&["--sku", &sku, "--from", from, "--to", to, "--quantity", "1"]),
            0,
        ),
        ("stock post", &books, args(&[batch.to_str().unwrap()]), 0),
        ("stock history", &books, args(&["--sku", &sku]), 0),
        ("stock levels", &books, args(&["--limit", "3"]), 0),
        ("report valuation", &books, vec![], 0),
        ("report summary", &books, args(&["--limit", "3"]), 0),
        ("report low-stock", &books, args(&["--limit", "3"]), 0),
        ("refresh", &books, vec![], 0),
        (
            "ledger archive",
            &books,
            args(&["--before", "2025-01-01"]),
            0,
        ),
        ("ledger unarchive", &books, vec![], 0),
        ("maintain", &books, args(&["--only", "growth,audit"]), 0),
        ("brand list", &books, vec![], 0),
        (
            "brand add",
            &books,
            args(&["Output Test Brand", "--code", "OTB"]),
            0,
        ),
        (
            "brand add",
            &books,
            args(&["Output Test Other", "--code", "OTO"]),
            0,
        ),
        ("brand merge", &books, args(&["OTO", "OTB"]), 0),
        ("supplier contact", &books, args(&[&supplier]), 0),
        (
            "demo",
            &books,
            args(&["--database", &demo, "--products", "50"]),
            0,
        ),
        ("completions", &books, args(&["fish"]), 0),
        ("man", &books, vec![], 0),
    ];
    let covered: BTreeSet<&str> = cases.iter().map(|c| c.0).collect();
    let all: BTreeSet<String> = leaves(Vec::new()).into_iter().collect();
    let missing: Vec<&String> = all
        .iter()
        .filter(|l| !covered.contains(l.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "commands without a --format json case here: {missing:?}"
    );
    for (command, db, rest, code) in &cases {
        let mut argv: Vec<&str> = command.split(' ').collect();
        argv.extend(rest.iter().map(String::as_str));
        json_of(db, &argv, *code);
    }

    let admin = mantis_testkit::connect(&mantis_testkit::server()).await;
    for name in [&restored, &demo] {
        mantis_migrate::scratch::drop_database(&admin, name)
            .await
            .unwrap();
    }
}

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `mantis plan | head -1`: the reader has what it wanted; mantis stops
/// writing and exits 0 without a panic or an error message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_closing_stdout_early_is_a_quiet_success() {
    let db = TestDb::empty("out_closed_stdout").await;
    // A plan (the migration's SQL) far larger than a pipe holds (64 kB).
    let filler = "-- a line of commentary to make the plan long\n".repeat(20_000);
    let dir = Dir::with(&[("001_long.up.sql", &format!("{filler}SELECT 1;\n"))]);
    let full = run(&db, &["plan", "--source", &dir.arg()]).expect_code(0);
    assert!(full.stdout.len() > 500_000, "{} bytes", full.stdout.len());
    let mut child = mantis()
        .arg("--database-url")
        .arg(db.url())
        .args(["plan", "--source", &dir.arg()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone (dropped above); mantis must notice and end well.
    let out = Run::from(child.wait_with_output().unwrap());
    assert!(first.starts_with("plan: up"), "{first}");
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
}

/// Options belong to the commands that use them: a run option given to a
/// command that runs no migration is refused before anything happens.
#[test]
fn an_option_a_command_does_not_use_is_refused() {
    for args in [
        &["brand", "add", "X", "--lock-retries", "9"][..],
        &["status", "--lock-timeout", "1s"],
        &["report", "valuation", "--source", "/tmp"],
        &["verify", "--batch-time", "10ms"],
        &["--lock-wait", "1s", "up"],
    ] {
        let out = Run::from(
            mantis()
                .args(["--database-url", "postgresql://nobody@127.0.0.1:1/none"])
                .args(args)
                .output()
                .unwrap(),
        );
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("unexpected argument"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // The same options where they belong are parsed (and fail later, at the
    // connection: exit 3, not 2).
    let out = Run::from(
        mantis()
            .args(["--database-url", "postgresql://nobody@127.0.0.1:1/none"])
            .args(["up", "--lock-retries", "9", "--source", "/nonexistent"])
            .output()
            .unwrap(),
    );
    assert_ne!(out.code, 2, "{out:?}");
}

/// Completions and the manual page come from the argument definitions, need
/// no database, and know every command and its own options.
#[test]
fn completions_and_the_manual_page_know_every_command() {
    let generated = |args: &[&str]| {
        let out = Run::from(mantis().args(args).output().unwrap());
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        out.stdout
    };
    for shell in ["bash", "zsh", "fish"] {
        let script = generated(&["completions", shell]);
        for word in ["rehearse", "deploy", "max-wait", "batch-time", "format"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    let page = generated(&["man"]);
    assert!(page.contains(".TH mantis"), "{page}");
    for word in ["rehearse", "deploy", "completions"] {
        assert!(page.contains(word), "man: no {word}");
    }
    let refused = Run::from(mantis().args(["completions", "tcsh"]).output().unwrap());
    assert_eq!(refused.code, 2, "{refused:?}");
}

/// `--log-format json`: every line mantis writes on stderr during a run is
/// one JSON object naming its event, with the numbers a program needs
/// (batches' rows and times, the control commit's baseline, each
/// statement's duration); stdout keeps the result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_as_json_lines_on_stderr() {
    let db = TestDb::empty("out_log_json").await;
    let dir = backfill_dir(500, "", 200);
    let out = run(&db, &["--log-format", "json", "up", "--source", &dir.arg()]).expect_code(0);
    assert!(
        out.stdout.contains("applied 2 migration(s)"),
        "{}",
        out.stdout
    );
    let events: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let named = |name: &str| -> Vec<&serde_json::Value> {
        events.iter().filter(|e| e["event"] == name).collect()
    };
    let started = named("migration_started");
    assert_eq!(
        started
            .iter()
            .map(|e| e["version"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2]
    );
    let batches = named("batch_progress");
    let last = batches.last().expect("no batch_progress event");
    assert_eq!(last["rows_done"], 500, "{last}");
    assert_eq!(last["table"], "public.t");
    assert_eq!(last["pass"], "keys");
    assert!(last["batch_time_ms"].is_u64(), "{last}");
    let rows: u64 = batches
        .iter()
        .map(|b| b["batch_rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, 500, "the batches' rows add up to the table");
    let baseline = named("commit_baseline");
    assert!(
        baseline[0]["baseline"]["p99_us"].as_u64().unwrap() > 0,
        "{baseline:?}"
    );
    let finished = named("migration_finished");
    assert_eq!(finished.len(), 2);
    assert_eq!(finished[1]["direction"], "up");
    assert!(finished[1]["duration_ms"].is_u64());
    assert!(named("statement_finished")
        .iter()
        .all(|e| e["duration_ms"].is_u64() && e["index"].is_u64()));
}
