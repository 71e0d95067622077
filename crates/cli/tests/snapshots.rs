#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! Snapshot tests of every renderer (text, json, csv, junit): the real binary
//! on a small deterministic catalogue, stdout compared with the reviewed
//! files under `tests/snapshots/`. What changes from run to run (clock,
//! durations, database names, the server) is masked before comparing;
//! everything else — columns, alignment, wording, JSON shape — must match.
//! After an intended change: `INSTA_UPDATE=always scripts/test -E 'binary(snapshots)'`,
//! then review the rewritten files with `git diff`.

mod common;

use common::{run, Dir, Run};
use mantis_testkit::{Spec, TestDb};

/// Masks for what differs between runs and machines.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    for (pattern, replacement) in [
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?( ?UTC|Z|[+-]\d{2}(:\d{2})?)?",
            "[time]",
        ),
        (r"\(\d+ min ago\)", "([age])"),
        (r#"time="[0-9.]+""#, r#"time="[s]""#),
        (
            r#"("([a-z_]*_ms|[a-z_]*seconds|duration|size_bytes|wal_bytes)": )[0-9.]+"#,
            "$1[n]",
        ),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[uuid]",
        ),
        (r"\(PostgreSQL [^\n]*\)", "(PostgreSQL [version])"),
        (
            r"(server version: PostgreSQL )[^\n]*( \(at least)",
            "$1[version]$2",
        ),
        (r" in \d+ ms", " in [n] ms"),
        (r"\w+_rehearse_\d+_\d+", "[copy]"),
        (r"copy of \d+ MB in [0-9.]+ s", "copy of [n] MB in [n] s"),
        (
            r"(?m)^(\d{3} #\d+ \(line \d+\)) +\d+ +[0-9.]+",
            "$1 [ms] [MB]",
        ),
        // A number from PostgreSQL 14 on, null before.
        (r#""fpi": (null|\d+)"#, r#""fpi": "[n or null]""#),
        (r"(?m)^(WAL written .*: \d{3}) [0-9.]+ MB", "$1 [n] MB"),
        // Counted from PostgreSQL 14 on: the line exists on some servers only.
        (r"(?m)^full-page images among it .*\n", ""),
        (r"postgres(ql)?://[^\s\x22]+", "[url]"),
        (r"mantis(-migrate)? \d+\.\d+\.\d+", "mantis [version]"),
        (r"mantis_backup_\w+", "[saved schema]"),
        (r"/tmp/\.tmp\w+", "[dir]"),
    ] {
        s.add_filter(pattern, replacement);
    }
    s
}

fn snapshot(name: &str, out: &Run) {
    settings().bind(|| insta::assert_snapshot!(name, out.stdout));
}

/// The progress lines a command wrote on stderr.
fn snapshot_stderr(name: &str, out: &Run) {
    settings().bind(|| insta::assert_snapshot!(name, out.stderr));
}

/// 12 products in 2 warehouses at version 004, its history stamped with
/// fixed times and a fixed user, one receipt posted, views refreshed.
async fn catalogue(label: &str) -> TestDb {
    let spec = Spec {
        products: 12,
        warehouses: 2,
        ..Spec::default()
    };
    let db = TestDb::seeded(label, &spec, 6).await;
    stamp_history(&db).await;
    let receipt = [
        "stock",
        "receive",
        "--sku",
        "SKU-0000003",
        "--warehouse",
        "CPT-01",
        "--quantity",
        "10",
        "--unit-cost",
        "12.50",
        "--reference",
        "PO-1",
    ];
    run(&db, &receipt).expect_code(0);
    run(&db, &["refresh"]).expect_code(0);
    db
}

/// Each command of the catalogue in each format its output takes.
#[tokio::test]
async fn every_report_renders_as_reviewed_in_every_format() {
    let db = catalogue("snapshots_reports").await;
    let commands: [(&str, &[&str], &[&str]); 10] = [
        ("status", &["status"], &["text", "json"]),
        ("verify", &["verify"], &["text", "json", "junit"]),
        ("health", &["health"], &["text", "json"]),
        ("summary", &["report", "summary"], &["text", "json", "csv"]),
        ("valuation", &["report", "valuation"], &["text", "csv"]),
        ("low_stock", &["report", "low-stock"], &["text", "json"]),
        ("brands", &["brand", "list"], &["text", "csv"]),
        (
            "history",
            &["stock", "history", "--sku", "SKU-0000003"],
            &["text", "json"],
        ),
        (
            "levels",
            &["stock", "levels", "--sku", "SKU-0000003"],
            &["text", "json"],
        ),
        ("saved", &["saved"], &["text", "json"]),
    ];
    for (name, args, formats) in commands {
        for format in formats {
            let mut with_format = vec!["--format", format];
            with_format.extend_from_slice(args);
            let out = run(&db, &with_format);
            assert_eq!(out.code, 0, "{name} {format}: {}", out.stderr);
            snapshot(&format!("{name}.{format}"), &out);
        }
    }
}

/// The engine's own renderers on a small plain-SQL directory: plan, up (its
/// progress lines on stderr and its summary), status with a pending file.
#[tokio::test]
async fn the_engine_renders_plans_and_runs_as_reviewed() {
    let db = TestDb::empty("snapshots_engine").await;
    let dir = Dir::with(&[
        (
            "001_widgets.up.sql",
            "CREATE TABLE widgets (id int PRIMARY KEY, name text NOT NULL);\n\
             INSERT INTO widgets VALUES (1, 'bolt'), (2, 'nut');\n",
        ),
        ("001_widgets.down.sql", "DROP TABLE widgets;\n"),
        (
            "002_widget_index.up.sql",
            "-- mantis: no-transaction\nCREATE INDEX CONCURRENTLY widgets_name ON widgets (name);\n",
        ),
    ]);
    let source = dir.arg();
    for format in ["text", "json"] {
        let out = run(&db, &["--format", format, "plan", "--source", &source]);
        assert_eq!(out.code, 0, "plan {format}: {}", out.stderr);
        snapshot(&format!("engine_plan.{format}"), &out);
    }
    let up = run(
        &db,
        &["--format", "json", "up", "--source", &source, "--to", "1"],
    );
    assert_eq!(up.code, 0, "{}", up.stderr);
    snapshot("engine_up_to_1.json", &up);
    stamp_history(&db).await;
    let status = run(&db, &["status", "--source", &source]);
    snapshot("engine_status_pending.text", &status);
    let up = run(&db, &["up", "--source", &source]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    snapshot("engine_up_rest.text", &up);
    snapshot_stderr("engine_up_rest.stderr", &up);
}

/// Rehearse and deploy's plan on the small directory: on an empty database
/// nothing existing is locked and no probe runs, so the report is the same
/// every time once its timings are masked.
#[tokio::test]
async fn rehearse_and_deploy_render_as_reviewed() {
    let db = TestDb::empty("snapshots_rehearse").await;
    let dir = Dir::with(&[(
        "001_widgets.up.sql",
        "CREATE TABLE widgets (id int PRIMARY KEY, name text NOT NULL);\n\
         INSERT INTO widgets VALUES (1, 'bolt');\n",
    )]);
    let source = dir.arg();
    for format in ["text", "json"] {
        let out = run(&db, &["--format", format, "rehearse", "--source", &source]);
        assert_eq!(out.code, 0, "rehearse {format}: {}", out.stderr);
        snapshot(&format!("rehearse.{format}"), &out);
        let out = deploy(
            &db,
            &[
                "--format",
                format,
                "deploy",
                "--dry-run",
                "--source",
                &source,
            ],
        );
        assert_eq!(out.code, 0, "deploy --dry-run {format}: {}", out.stderr);
        snapshot(&format!("deploy_dry_run.{format}"), &out);
    }
    let out = deploy(&db, &["deploy", "--no-backup", "--source", &source]);
    assert_eq!(out.code, 0, "deploy: {}", out.stderr);
    snapshot("deploy.text", &out);
    snapshot_stderr("deploy.stderr", &out);
}

/// Runs `args` (a deploy) with its log in a directory of its own.
fn deploy(db: &TestDb, args: &[&str]) -> Run {
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("deploy.log");
    let mut args = args.to_vec();
    args.extend(["--log", log.to_str().unwrap()]);
    run(db, &args)
}

/// What `down` saves, as `saved` lists it, and `down`'s own summary.
#[tokio::test]
async fn saved_sets_render_as_reviewed() {
    let db = catalogue("snapshots_saved").await;
    let down = run(&db, &["down", "--to", "3"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    snapshot("down.text", &down);
    for format in ["text", "json"] {
        let out = run(&db, &["--format", format, "saved"]);
        assert_eq!(out.code, 0, "saved {format}: {}", out.stderr);
        snapshot(&format!("saved_after_down.{format}"), &out);
    }
}

/// Gives the applied migrations a fixed time, user and duration: those
/// depend on the machine and the clock, and status prints them in columns.
async fn stamp_history(db: &TestDb) {
    db.client()
        .await
        .batch_execute(
            "UPDATE mantis.schema_migrations SET applied_at = '2026-01-31 12:00:00+00', \
             applied_by = 'deployer', duration_ms = 1000 * version",
        )
        .await
        .unwrap();
}
