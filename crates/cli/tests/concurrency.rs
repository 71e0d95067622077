//! The advisory lock serializes runners; lock_timeout retries only on 55P03.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use std::time::Duration;

use common::{applied_or_up_to_date, count, exists, finish, run, spawn, spawn_up_retrying, Dir};
use mantis_testkit::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_runners_at_once_apply_each_migration_exactly_once() {
    let db = TestDb::empty("five_runners").await;
    let dir = Dir::with(&[
        ("001_counter.up.sql", "CREATE TABLE counter (migration int);"),
        ("002_slow.up.sql", "INSERT INTO counter VALUES (2);\nSELECT pg_sleep(0.5);"),
        (
            "003_online.up.sql",
            "-- mantis: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS counter_m ON counter (migration);\nINSERT INTO counter VALUES (3);",
        ),
    ]);
    let children: Vec<_> = (0..5)
        .map(|_| spawn(&db, &["up", "--source", &dir.arg()]))
        .collect();
    let runs: Vec<_> = children
        .into_iter()
        .map(|c| finish(c).expect_code(0))
        .collect();
    assert_eq!(applied_or_up_to_date(&runs, 3, "003"), (1, 4), "{runs:#?}");
    assert_eq!(
        count(&db, "counter").await,
        2,
        "each migration's insert ran once"
    );
    assert_eq!(count(&db, "mantis.schema_migrations").await, 3);
    assert_eq!(count(&db, "mantis.migration_events").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_runner_names_the_holder_and_gives_up_after_its_timeout() {
    let db = TestDb::empty("lock_wait").await;
    let dir = Dir::with(&[("001_t.up.sql", "CREATE TABLE t ();")]);
    let holder = db.client().await;
    let pid: i32 = holder
        .query_one(
            "SELECT pg_advisory_lock(x'6d616e74'::int, x'69730001'::int), pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(1);
    let out = run(&db, &["up", "--source", &dir.arg(), "--lock-wait", "1s"]).expect_code(7);
    assert!(
        out.stderr.contains(&format!(
            "waiting for the migration lock held by pid {pid} (mantis-testkit"
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("gave up after"), "{}", out.stderr);
    assert!(!exists(&db, "t").await);
    drop(holder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_is_retried_then_reported_with_its_sqlstate() {
    let db = TestDb::empty("lock_timeout").await;
    let dir = Dir::with(&[
        ("001_t.up.sql", "CREATE TABLE t (a int);"),
        ("002_alter.up.sql", "ALTER TABLE t ADD COLUMN b int;"),
    ]);
    run(&db, &["up", "--source", &dir.arg(), "--to", "1"]).expect_code(0);
    let blocker = db.client().await;
    blocker
        .batch_execute("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE;")
        .await
        .unwrap();
    let args = [
        "up",
        "--source",
        &dir.arg(),
        "--lock-timeout",
        "200ms",
        "--lock-retries",
        "1",
    ];
    let out = run(&db, &args).expect_code(6);
    assert!(
        out.stderr.contains("(attempt 1 of 2); retrying in"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("ERROR 55P03"), "{}", out.stderr);
    assert_eq!(count(&db, "mantis.schema_migrations").await, 1);

    // With more retries, the migration goes through once the blocker commits.
    let child = spawn_up_retrying(&db, &dir, "200ms", "8");
    tokio::time::sleep(Duration::from_millis(800)).await;
    blocker.batch_execute("COMMIT").await.unwrap();
    let out = finish(child).expect_code(0);
    assert!(
        out.stderr.contains("retrying in"),
        "it must have waited at least once:\n{}",
        out.stderr
    );
    assert_eq!(count(&db, "mantis.schema_migrations").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_session_lock_stops_the_run() {
    // What a transaction-mode pooler does to a session lock, simulated in-file.
    let db = TestDb::empty("lock_lost").await;
    let dir = Dir::with(&[(
        "001_unlock.up.sql",
        "-- mantis: no-transaction\nSELECT pg_advisory_unlock_all();\nCREATE TABLE after_unlock ();",
    )]);
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(7);
    assert!(
        out.stderr.contains("no longer held by this session"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("PgBouncer"), "{}", out.stderr);
    assert!(!exists(&db, "after_unlock").await);
}
