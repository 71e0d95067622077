#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! `mantis backup`, `mantis restore` and `mantis deploy`: the safe path, and
//! what happens when it is not safe.

mod common;

use std::path::Path;

use common::{count, exists, mantis, run, scalar, small_spec, Run, SUCCESS_LINE};
use mantis_testkit::TestDb;

/// Runs mantis in `dir` (where default file names land).
fn run_in(dir: &Path, db: &TestDb, args: &[&str]) -> Run {
    Run::from(
        mantis()
            .current_dir(dir)
            .arg("--database-url")
            .arg(db.url())
            .args(args)
            .output()
            .unwrap(),
    )
}

fn files(dir: &Path, suffix: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_runs_the_whole_story_and_ends_with_the_success_line() {
    let db = TestDb::seeded("deploy_ok", &small_spec(), 1).await;
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &db, &["deploy"]).expect_code(0);
    assert!(
        out.stdout.trim_end().ends_with(SUCCESS_LINE),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("cost coverage"), "{}", out.stdout);
    for step in [
        "[1/6] preflight",
        "[2/6] backup",
        "[3/6] up",
        "[4/6] verify",
        "[5/6] refresh views",
        "[6/6] summary",
    ] {
        assert!(out.stderr.contains(step), "{step} missing:\n{}", out.stderr);
    }
    let logs = files(dir.path(), ".log");
    assert_eq!(logs.len(), 1, "one log file");
    let log = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(
        log.contains("[6/6] summary")
            && log.contains("NOTICE: 003: cost coverage")
            && log.contains("core.mv_low_stock_alerts refreshed concurrently in"),
        "{log}"
    );
    let dumps = files(dir.path(), ".dump");
    assert_eq!(dumps.len(), 1, "one backup file");
    assert_eq!(
        count(&db, "mantis.backups WHERE schema_version = 1").await,
        1
    );
    assert_eq!(
        scalar(&db, "SELECT max(version) FROM mantis.schema_migrations").await,
        "6"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_returns_to_the_starting_version_when_verify_fails() {
    let db = TestDb::seeded("deploy_verify_fails", &small_spec(), 1).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("deploy.log");
    let out = run(
        &db,
        &[
            "deploy",
            "--no-backup",
            "--min-cost-coverage",
            "99.9",
            "--log",
            log.to_str().unwrap(),
        ],
    )
    .expect_code(8);
    assert!(
        out.stderr
            .contains("the database was returned to version 001 (rolled back by deploy)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cost coverage is above the minimum"),
        "{}",
        out.stderr
    );
    assert!(!exists(&db, "core.brand").await);
    assert_eq!(
        scalar(&db, "SELECT max(version) FROM mantis.schema_migrations").await,
        "1"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("rolling back to version 001"), "{logged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_undoes_a_half_done_migration_when_up_fails() {
    let db = TestDb::seeded("deploy_up_fails", &small_spec(), 1).await;
    // Phase 2 fails (at its views) after phase 1 has committed; the
    // rollback's DROPs are not refused.
    common::refuse_ddl(&db, "CREATE MATERIALIZED VIEW").await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("deploy.log");
    let out = run(
        &db,
        &["deploy", "--no-backup", "--log", log.to_str().unwrap()],
    )
    .expect_code(6);
    assert!(
        out.stderr
            .contains("undid the half-done migration with its down file"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("returned to version 001"),
        "{}",
        out.stderr
    );
    assert_eq!(
        count(&db, "mantis.migration_progress").await,
        0,
        "no half-done marker left"
    );
    assert!(!exists(&db, "core.brand").await);
    assert!(!exists(&db, "core.stock_movement").await);
    let status = run(&db, &["status"]).expect_code(0);
    assert!(!status.stdout.contains("PARTIAL"), "{}", status.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_refuses_while_a_transaction_holds_a_lock_on_a_target_table() {
    let db = TestDb::seeded("deploy_locked", &small_spec(), 1).await;
    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE core.products IN ACCESS SHARE MODE")
        .await
        .unwrap();
    refused_by_preflight(
        &db,
        "FAIL no locks on the tables to alter: held: core.products (AccessShareLock)",
        "preflight failed (no locks on the tables to alter); nothing was changed",
    )
    .await;
    holder.batch_execute("ROLLBACK").await.unwrap();
}

/// `deploy` stops at preflight (exit 5) saying `finding` and `verdict`,
/// before any backup is written or any migration runs.
async fn refused_by_preflight(db: &TestDb, finding: &str, verdict: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), db, &["deploy"]).expect_code(5);
    for said in [finding, verdict] {
        assert!(out.stderr.contains(said), "{said}:\n{}", out.stderr);
    }
    assert!(
        files(dir.path(), ".dump").is_empty(),
        "no backup before a failed preflight"
    );
    assert_eq!(
        scalar(db, "SELECT max(version) FROM mantis.schema_migrations").await,
        "1"
    );
}

/// A read-only database is found by preflight, before the backup, not by
/// the first migration statement after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_refuses_a_read_only_database() {
    let db = TestDb::seeded("deploy_read_only", &small_spec(), 1).await;
    db.client()
        .await
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET default_transaction_read_only = on",
            db.name()
        ))
        .await
        .unwrap();
    refused_by_preflight(
        &db,
        "FAIL writable database: no: transactions are read-only",
        "preflight failed (writable database); nothing was changed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_dry_run_shows_the_plan_and_changes_nothing() {
    let db = TestDb::seeded("deploy_dry", &small_spec(), 1).await;
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &db, &["deploy", "--dry-run"]).expect_code(0);
    assert!(
        out.stdout.contains("plan: up from version 001 to 006"),
        "{}",
        out.stdout
    );
    assert!(files(dir.path(), ".dump").is_empty());
    assert!(
        files(dir.path(), ".log").is_empty(),
        "a dry run leaves no log behind"
    );
    assert!(!exists(&db, "core.brand").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_round_trip_into_a_new_database() {
    let db = TestDb::seeded("backup_roundtrip", &small_spec(), 3).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.dump");
    let file_arg = file.to_str().unwrap();
    let json = run(&db, &["backup", "--file", file_arg, "--format", "json"])
        .expect_code(0)
        .json();
    assert_eq!(
        json["size_bytes"].as_u64().unwrap(),
        std::fs::metadata(&file).unwrap().len()
    );
    assert!(json["toc_entries"].as_u64().unwrap() > 50);
    let recorded = scalar(&db, "SELECT sha256 FROM mantis.backups").await;
    assert_eq!(recorded, json["sha256"].as_str().unwrap());

    let again = run(&db, &["backup", "--file", file_arg]).expect_code(5);
    assert!(
        again.stderr.contains("never overwrites"),
        "{}",
        again.stderr
    );

    let target = format!("{}_restored", db.name());
    let out = run(&db, &["restore", file_arg, "--into", &target]).expect_code(0);
    assert!(
        out.stdout
            .contains(&format!("into new database \"{target}\"")),
        "{}",
        out.stdout
    );
    let restored_url = db.url().replace(db.name(), &target);
    let restored = mantis_testkit::connect(
        &mantis_migrate::ConnectOptions::resolve(Some(&restored_url)).unwrap(),
    )
    .await;
    let original = db.client().await;
    let tables = mantis_testkit::TABLES_OF_003;
    assert_eq!(
        mantis_testkit::table_digests(&restored, tables).await,
        mantis_testkit::table_digests(&original, tables).await
    );
    let exists_already = run(&db, &["restore", file_arg, "--into", &target]).expect_code(5);
    assert!(
        exists_already.stderr.contains("already exists"),
        "{}",
        exists_already.stderr
    );
    // Names PostgreSQL would cut (63 bytes at most) and missing files are
    // bad input: exit 2, named, before anything is created.
    let long = "r".repeat(80);
    let too_long = run(&db, &["restore", file_arg, "--into", &long]).expect_code(2);
    assert!(
        too_long
            .stderr
            .contains("80 bytes long; PostgreSQL keeps at most 63"),
        "{}",
        too_long.stderr
    );
    let no_file = run(&db, &["restore", "/nonexistent.dump", "--into", "x_never"]).expect_code(2);
    assert!(
        no_file.stderr.contains("cannot read /nonexistent.dump"),
        "{}",
        no_file.stderr
    );
    // A file that is not a pg_dump archive is bad input too, and creates nothing.
    let text = dir.path().join("notes.dump");
    std::fs::write(&text, "not a backup\n").unwrap();
    let not_archive = run(
        &db,
        &["restore", text.to_str().unwrap(), "--into", "x_never"],
    )
    .expect_code(2);
    assert!(
        not_archive
            .stderr
            .contains("is not a backup pg_restore can read"),
        "{}",
        not_archive.stderr
    );
    // A backup into a directory that does not exist says what it could not do.
    let nowhere = run(&db, &["backup", "--file", "/nonexistent/x.dump"]).expect_code(2);
    assert!(
        nowhere
            .stderr
            .contains("cannot create the backup file in the directory /nonexistent"),
        "{}",
        nowhere.stderr
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_database WHERE datname = 'x_never'"
        )
        .await,
        "0"
    );
    drop(restored);
    mantis_migrate::scratch::drop_database(&original, &target)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_too_old_pg_dump_is_a_clear_error() {
    let db = TestDb::at_version("backup_tools", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.dump");
    let missing = run(
        &db,
        &[
            "backup",
            "--file",
            file.to_str().unwrap(),
            "--pg-dump",
            "/nonexistent/pg_dump",
        ],
    )
    .expect_code(2);
    assert!(
        missing.stderr.contains("cannot run /nonexistent/pg_dump"),
        "{}",
        missing.stderr
    );
    assert!(
        missing
            .stderr
            .contains("apt-get install postgresql-client-"),
        "{}",
        missing.stderr
    );

    let old = dir.path().join("pg_dump");
    std::fs::write(&old, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 11.22'\n").unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&old)
        .status()
        .unwrap();
    let too_old = run(
        &db,
        &[
            "backup",
            "--file",
            file.to_str().unwrap(),
            "--pg-dump",
            old.to_str().unwrap(),
        ],
    )
    .expect_code(2);
    assert!(
        too_old
            .stderr
            .contains("is version 11, older than the server"),
        "{}",
        too_old.stderr
    );
    assert!(!file.exists(), "no file is left behind");
}

/// Five deploys at once, in one directory: one applies, verifies and
/// refreshes; the others wait for the migration lock, find nothing left to do
/// and exit 0. Started within the same second, each still gets a log of its
/// own (the default names are made unique).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_deploys_at_once_all_succeed_and_apply_each_migration_once() {
    let db = TestDb::seeded("deploy_five", &small_spec(), 1).await;
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..5)
        .map(|_| {
            mantis()
                .current_dir(dir.path())
                .arg("--database-url")
                .arg(db.url())
                // No backup: the matrix runs servers newer than the local
                // pg_dump. The backup's default name takes the log's stamp.
                .args(["deploy", "--no-backup"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| Run::from(c.wait_with_output().unwrap()).expect_code(0))
        .collect();
    let applied = runs
        .iter()
        .filter(|r| r.stdout.trim_end().ends_with(SUCCESS_LINE))
        .count();
    let idle = runs
        .iter()
        .filter(|r| {
            r.stderr.contains("nothing to deploy") || r.stderr.contains("nothing left to deploy")
        })
        .count();
    assert_eq!((applied, idle), (1, 4), "{runs:#?}");
    assert_eq!(
        count(
            &db,
            "mantis.migration_events WHERE action = 'up' AND version IN (3, 4)"
        )
        .await,
        2,
        "003 and 004 applied once each"
    );
    assert_eq!(files(dir.path(), ".log").len(), 5, "one log per deploy");
}

/// A log named with --log is never overwritten: an existing one is a usage
/// error before anything runs, and keeps what it held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_refuses_to_overwrite_an_existing_log() {
    let db = TestDb::seeded("deploy_log_exists", &small_spec(), 1).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("deploy.log");
    std::fs::write(&log, "an earlier deploy\n").unwrap();
    let out = run_in(dir.path(), &db, &["deploy", "--log", log.to_str().unwrap()]).expect_code(2);
    assert!(
        out.stderr.contains("already exists") && out.stderr.contains("--log"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "an earlier deploy\n"
    );
    assert!(!exists(&db, "core.brand").await, "nothing was deployed");
}

/// A backup holds every row: it is created 0600 whatever the umask, and not
/// at all in a directory where anyone could replace it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::at_version("backup_private", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("private.dump");
    // Through a shell whose umask lets everyone read what it creates.
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "umask 000 && exec \"$@\"",
            "sh",
            env!("CARGO_BIN_EXE_mantis"),
        ])
        .args(["--database-url", &db.url(), "backup", "--file"])
        .arg(&file)
        .env("PGPASSFILE", "/nonexistent")
        .output()
        .unwrap();
    let out = common::Run::from(out).expect_code(0);
    assert!(out.stdout.contains("mode 0600"), "{}", out.stdout);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");

    let open = tempfile::tempdir().unwrap();
    std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let target = open.path().join("b.dump");
    let refused = run(&db, &["backup", "--file", target.to_str().unwrap()]).expect_code(5);
    assert!(
        refused
            .stderr
            .contains("writable by every user and has no sticky bit"),
        "{}",
        refused.stderr
    );
    assert!(!target.exists(), "nothing written");
}

/// A connection lost during deploy (the server ends the session): the error
/// is said once as the run's narrative and once as its verdict, never
/// nested in itself, and the log keeps it; exit 6.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_during_deploy_is_said_once_not_nested() {
    let db = TestDb::empty("deploy_lost_connection").await;
    let dir = common::Dir::with(&[
        ("001_t.up.sql", "CREATE TABLE t (id int);"),
        (
            "002_slow.up.sql",
            "-- mantis: no-transaction\nINSERT INTO t VALUES (1);\nSELECT pg_sleep(60);\n",
        ),
    ]);
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("deploy.log");
    let child = common::spawn(
        &db,
        &[
            "deploy",
            "--no-backup",
            "--source",
            &dir.arg(),
            "--log",
            log.to_str().unwrap(),
        ],
    );
    let started = std::time::Instant::now();
    let sleeping = "pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'";
    while count(&db, sleeping).await == 0 {
        assert!(
            started.elapsed().as_secs() < 30,
            "the slow statement never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    scalar(
        &db,
        &format!("SELECT count(pg_terminate_backend(pid)) FROM {sleeping}"),
    )
    .await;
    let out = common::finish(child);
    assert_eq!(out.code, 6, "{out:#?}");
    let failure = "migration 002_slow (up) failed at";
    assert_eq!(out.stderr.matches(failure).count(), 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("deploy stopped; log: "),
        "{}",
        out.stderr
    );
    let written = std::fs::read_to_string(&log).unwrap();
    assert_eq!(written.matches(failure).count(), 2, "{written}");
}
