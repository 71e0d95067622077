//! Failures leave the database as it was (transactional) or in a state that
//! `status` explains and the next run resolves (no-transaction).

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use std::time::{Duration, Instant};

use common::{count, exists, fingerprint, finish, run, spawn, Dir};
use mantis_testkit::TestDb;

const BASE: (&str, &str) = ("001_base.up.sql", "CREATE TABLE t (a int, b int);");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactional_failure_rolls_back_everything_and_names_file_line_and_sqlstate() {
    let db = TestDb::empty("tx_failure").await;
    let dir = Dir::with(&[
        BASE,
        ("002_bad.up.sql", "CREATE TABLE made (x int);\nINSERT INTO made VALUES (1);\n\nINSERT INTO\n  nowhere VALUES (1);\n"),
    ]);
    run(&db, &["up", "--source", &dir.arg(), "--to", "1"]).expect_code(0);
    let before = fingerprint(&db).await;
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(6);
    assert!(
        out.stderr.contains("002_bad.up.sql:5"),
        "error line must point at `nowhere`:\n{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("ERROR 42P01: relation \"nowhere\" does not exist"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("rolled back: database and history are as they were"),
        "{}",
        out.stderr
    );
    assert_eq!(fingerprint(&db).await, before);
    assert!(!exists(&db, "made").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syntax_errors_report_line_sqlstate_and_json_error() {
    let db = TestDb::empty("syntax_error").await;
    let dir = Dir::with(&[(
        "001_typo.up.sql",
        "-- header\nCREATE TABLE ok (a int);\nSELECT a\n  FROMM ok;\n",
    )]);
    let out = run(&db, &["--format", "json", "up", "--source", &dir.arg()]).expect_code(6);
    assert!(out.stderr.contains("001_typo.up.sql:4"), "{}", out.stderr);
    assert!(out.stderr.contains("ERROR 42601"), "{}", out.stderr);
    assert_eq!(out.json()["error"]["exit_code"], 6);
    assert!(!exists(&db, "ok").await);
    assert!(
        !exists(&db, "mantis.schema_migrations").await
            || count(&db, "mantis.schema_migrations").await == 0
    );
}

fn no_transaction_files() -> Dir {
    Dir::with(&[
        BASE,
        (
            "002_online.up.sql",
            "-- mantis: no-transaction\n\
             CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n\
             INSERT INTO gate VALUES (1);\n\
             CREATE INDEX CONCURRENTLY IF NOT EXISTS t_b ON t (b);\n",
        ),
    ])
}

/// A marker whose direction is neither up nor down was changed by hand:
/// refused (exit 5), never read as "up" and resumed the wrong way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_progress_marker_changed_by_hand_is_refused_not_guessed() {
    let db = TestDb::empty("notx_marker_damaged").await;
    let dir = no_transaction_files();
    let src = dir.arg();
    run(&db, &["up", "--source", &src]).expect_code(6);
    db.client()
        .await
        .batch_execute(
            "ALTER TABLE mantis.migration_progress DROP CONSTRAINT migration_progress_direction_check;
             UPDATE mantis.migration_progress SET direction = 'sideways';
             CREATE TABLE gate (x int);",
        )
        .await
        .unwrap();
    for command in ["status", "up"] {
        let out = run(&db, &[command, "--source", &src]).expect_code(5);
        assert!(
            out.stderr.contains("history is damaged") && out.stderr.contains("\"sideways\""),
            "{command}: {}",
            out.stderr
        );
    }
    assert!(!exists(&db, "t_b").await, "nothing ran");
    assert_eq!(count(&db, "gate").await, 0);
}

/// A query of mantis's own that the server refuses shows the server's words
/// and SQLSTATE, on stderr and in the JSON error, never the driver's bare
/// "db error".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_bookkeeping_query_shows_the_server_words_and_sqlstate() {
    let db = TestDb::empty("history_unreadable").await;
    db.client()
        .await
        .batch_execute(
            "CREATE SCHEMA mantis;
             CREATE TABLE mantis.schema_migrations (version text);
             CREATE TABLE mantis.migration_progress (version int);
             CREATE TABLE mantis.migration_events (x int);",
        )
        .await
        .unwrap();
    let out = run(&db, &["status"]).expect_code(1);
    let words = "column \"name\" does not exist (SQLSTATE 42703)";
    assert!(
        out.stderr.contains("reading migration history") && out.stderr.contains(words),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("db error"), "{}", out.stderr);
    let json = run(&db, &["--format", "json", "status"])
        .expect_code(1)
        .json();
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(words) && !message.contains("db error"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_transaction_failure_leaves_a_marker_that_status_explains_and_up_resumes() {
    let db = TestDb::empty("notx_failure").await;
    let dir = no_transaction_files();
    let src = dir.arg();
    let out = run(&db, &["up", "--source", &src]).expect_code(6);
    assert!(out.stderr.contains("002_online.up.sql:3"), "{}", out.stderr);
    assert!(
        out.stderr.contains("stopped after 1 of 3 statement(s)"),
        "{}",
        out.stderr
    );
    assert!(exists(&db, "t_a").await, "statement 1 committed on its own");

    let status = run(&db, &["status", "--source", &src])
        .expect_code(0)
        .stdout;
    assert!(status.contains("PARTIAL"), "{status}");
    assert!(status.contains("(1 to apply, 002 half-done)"), "{status}");
    assert!(status.contains("after 1 of 3 statements"), "{status}");
    assert!(
        status.contains("relation \"gate\" does not exist"),
        "{status}"
    );
    assert!(
        status.contains("`mantis up` resumes at statement 2"),
        "{status}"
    );
    let json = run(&db, &["status", "--source", &src, "--format", "json"])
        .expect_code(0)
        .json();
    assert_eq!(json["partial"]["statements_done"], 1);
    assert_eq!(json["pending"], 1, "the half-done up is still to apply");

    let down = run(&db, &["down", "--source", &src]).expect_code(5);
    assert!(
        down.stderr.contains("finish it first with `mantis up`"),
        "{}",
        down.stderr
    );

    db.client()
        .await
        .batch_execute("CREATE TABLE gate (x int)")
        .await
        .unwrap();
    let out = run(&db, &["up", "--source", &src]).expect_code(0);
    assert!(
        out.stderr.contains("resuming at statement 2"),
        "{}",
        out.stderr
    );
    assert!(exists(&db, "t_b").await);
    assert_eq!(count(&db, "gate").await, 1, "statement 2 ran exactly once");
    assert_eq!(count(&db, "mantis.migration_progress").await, 0);
    assert_eq!(count(&db, "mantis.schema_migrations").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_blocks_resuming_a_partial_run() {
    let db = TestDb::empty("notx_changed").await;
    let dir = no_transaction_files();
    run(&db, &["up", "--source", &dir.arg()]).expect_code(6);
    dir.write(
        "002_online.up.sql",
        "-- mantis: no-transaction\nSELECT 1;\n",
    );
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(5);
    assert!(
        out.stderr.contains("changed since the interrupted run"),
        "{}",
        out.stderr
    );
}

/// The file sleeps until the test has created `fast`: the first run can be
/// killed mid-statement, the rerun (same file, same checksum) goes through.
const SLEEPER: &str = "SELECT pg_sleep(CASE WHEN to_regclass('fast') IS NULL THEN 60 ELSE 0 END)";

async fn kill_mantis_backend(db: &TestDb) {
    let client = db.client().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let killed = client
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name = 'mantis' AND query LIKE '%pg_sleep%'",
                &[],
            )
            .await
            .unwrap();
        if !killed.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "mantis never reached its pg_sleep"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_backend_in_a_transaction_changes_nothing_and_a_rerun_is_clean() {
    let db = TestDb::empty("kill_tx").await;
    let dir = Dir::with(&[(
        "001_slow.up.sql",
        &format!("CREATE TABLE k (a int);\n{SLEEPER};\n"),
    )]);
    let child = spawn(&db, &["up", "--source", &dir.arg()]);
    kill_mantis_backend(&db).await;
    let out = finish(child).expect_code(6);
    assert!(out.stderr.contains("001_slow.up.sql:2"), "{}", out.stderr);
    assert!(!exists(&db, "k").await);
    assert_eq!(count(&db, "mantis.schema_migrations").await, 0);

    db.client()
        .await
        .batch_execute("CREATE TABLE fast ()")
        .await
        .unwrap();
    run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    assert!(exists(&db, "k").await);
    assert_eq!(count(&db, "mantis.schema_migrations").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_backend_without_transaction_resumes_after_the_last_committed_statement() {
    let db = TestDb::empty("kill_notx").await;
    let file = format!("-- mantis: no-transaction\nCREATE TABLE k1 (a int);\n{SLEEPER};\nCREATE TABLE k2 (a int);\n");
    let dir = Dir::with(&[("001_slow.up.sql", &file)]);
    let child = spawn(&db, &["up", "--source", &dir.arg()]);
    kill_mantis_backend(&db).await;
    finish(child).expect_code(6);
    assert!(exists(&db, "k1").await && !exists(&db, "k2").await);
    let status = run(&db, &["status", "--source", &dir.arg()])
        .expect_code(0)
        .stdout;
    assert!(status.contains("after 1 of 3 statements"), "{status}");

    db.client()
        .await
        .batch_execute("CREATE TABLE fast ()")
        .await
        .unwrap();
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    assert!(
        out.stderr.contains("resuming at statement 2"),
        "{}",
        out.stderr
    );
    assert!(exists(&db, "k2").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_file_is_refused_naming_file_and_both_checksums() {
    let db = TestDb::empty("tamper").await;
    let dir = Dir::with(&[BASE]);
    run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    let applied = common::scalar(&db, "SELECT checksum FROM mantis.schema_migrations").await;
    dir.write("001_base.up.sql", "CREATE TABLE t (a bigint, b int);");
    let local = run(&db, &["status", "--source", &dir.arg(), "--format", "json"])
        .expect_code(0)
        .json()["entries"][0]["local_checksum"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(applied, local);
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(5);
    assert!(
        out.stderr
            .contains(&dir.file("001_base.up.sql").display().to_string()),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&applied) && out.stderr.contains(&local),
        "{}",
        out.stderr
    );
    let status = run(&db, &["status", "--source", &dir.arg()])
        .expect_code(0)
        .stdout;
    assert!(status.contains("CHANGED"), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_versions_missing_from_the_set_are_refused_unless_allowed() {
    let db = TestDb::empty("missing").await;
    let dir = Dir::with(&[BASE, ("002_more.up.sql", "CREATE TABLE more ();")]);
    run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    std::fs::remove_file(dir.file("002_more.up.sql")).unwrap();
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(5);
    assert!(
        out.stderr.contains("missing from") && out.stderr.contains("002_more"),
        "{}",
        out.stderr
    );
    run(&db, &["up", "--source", &dir.arg(), "--allow-missing"]).expect_code(0);
    assert!(run(&db, &["status", "--source", &dir.arg()])
        .expect_code(0)
        .stdout
        .contains("MISSING"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_file_names_are_all_listed_and_nothing_is_touched() {
    let db = TestDb::empty("malformed").await;
    let dir = Dir::with(&[
        ("001_ok.up.sql", "SELECT 1;"),
        ("2-bad.up.sql", "SELECT 1;"),
        ("003_Capital.up.sql", "SELECT 1;"),
        ("004_orphan.down.sql", "SELECT 1;"),
        ("001_dupe.up.sql", "SELECT 1;"),
    ]);
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(4);
    for name in [
        "2-bad.up.sql",
        "003_Capital.up.sql",
        "004_orphan.down.sql",
        "001_dupe.up.sql",
        "001_ok.up.sql",
    ] {
        assert!(
            out.stderr.contains(name),
            "{name} not listed:\n{}",
            out.stderr
        );
    }
    assert!(out.stderr.contains("duplicate version 1"), "{}", out.stderr);
    assert!(!exists(&db, "mantis.schema_migrations").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_refuses_up_front_when_a_down_file_is_missing() {
    let db = TestDb::empty("no_down").await;
    let dir = Dir::with(&[
        BASE,
        ("001_base.down.sql", "DROP TABLE t;"),
        ("002_oneway.up.sql", "CREATE TABLE oneway ();"),
    ]);
    run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    let before = fingerprint(&db).await;
    let out = run(&db, &["down", "--source", &dir.arg(), "--to", "0"]).expect_code(5);
    assert!(out.stderr.contains("002_oneway.down.sql"), "{}", out.stderr);
    assert_eq!(
        fingerprint(&db).await,
        before,
        "nothing may be reverted when any down file is missing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_migrations_are_refused() {
    let db = TestDb::empty("out_of_order").await;
    let dir = Dir::with(&[BASE, ("003_late.up.sql", "SELECT 1;")]);
    run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    dir.write("002_early.up.sql", "SELECT 1;");
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(5);
    assert!(
        out.stderr
            .contains("migration 2 is pending but the newer migration 3 is already applied"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrently_in_a_transactional_file_is_caught_before_connecting() {
    let dir = Dir::with(&[(
        "001_idx.up.sql",
        "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);",
    )]);
    let out = common::run_url(
        "postgresql://nobody@127.0.0.1:1/none",
        &["up", "--source", &dir.arg()],
    )
    .expect_code(4);
    assert!(
        out.stderr
            .contains("001_idx.up.sql: line 2: cannot run inside a transaction block"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_index_from_a_failed_concurrent_build_is_rebuilt_on_resume() {
    let db = TestDb::empty("invalid_index").await;
    let dir = Dir::with(&[
        ("001_base.up.sql", "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1), (1), (2);\n"),
        (
            "002_unique.up.sql",
            "-- mantis: no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_a_key ON public.t (a);\n",
        ),
    ]);
    let failed = run(&db, &["up", "--source", &dir.arg()]).expect_code(6);
    assert!(failed.stderr.contains("23505"), "{}", failed.stderr);
    let invalid = "pg_index WHERE indexrelid = 'public.t_a_key'::regclass AND NOT indisvalid";
    assert_eq!(
        count(&db, invalid).await,
        1,
        "the failed build leaves an INVALID index"
    );
    db.client()
        .await
        .batch_execute("DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t WHERE a = 1)")
        .await
        .unwrap();
    let resumed = run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    assert!(
        resumed
            .stderr
            .contains("dropped INVALID index public.t_a_key"),
        "{}",
        resumed.stderr
    );
    assert_eq!(count(&db, invalid).await, 0);
    assert_eq!(
        count(
            &db,
            "pg_index WHERE indexrelid = 'public.t_a_key'::regclass AND indisvalid AND indisunique"
        )
        .await,
        1
    );
}

/// A statement failing inside a BEGIN … COMMIT block of a no-transaction
/// file: the run's message and `status` name the same resume point (the
/// block's BEGIN, where the next run starts it again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_block_names_the_resume_point_status_shows() {
    let db = TestDb::empty("notx_block_resume").await;
    let dir = Dir::with(&[(
        "001_block.up.sql",
        "-- mantis: no-transaction\n\
         CREATE TABLE before_block (a int);\n\
         BEGIN;\n\
         CREATE TABLE in_block (a int);\n\
         INSERT INTO missing_table VALUES (1);\n\
         COMMIT;\n",
    )]);
    let src = dir.arg();
    let out = run(&db, &["up", "--source", &src]).expect_code(6);
    assert!(
        out.stderr.contains("stopped after 1 of 5 statement(s)")
            && out.stderr.contains("resumes at statement 2"),
        "{}",
        out.stderr
    );
    let status = run(&db, &["status", "--source", &src])
        .expect_code(0)
        .stdout;
    assert!(status.contains("after 1 of 5 statements"), "{status}");
    assert!(status.contains("resumes at statement 2"), "{status}");
    assert!(exists(&db, "before_block").await);
    assert!(!exists(&db, "in_block").await, "the block was rolled back");
}
