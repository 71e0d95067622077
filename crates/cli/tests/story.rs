//! The whole migration story, end to end through the binary, on whatever server
//! the suite runs against: `scripts/test-pg-versions` runs it on every
//! PostgreSQL major from 12 to 18.
//!
//! 001 → seed → deploy (backup, 003, 004, verify) → verify → down to 001 →
//! up with the saved data put back → verify, with every ledger table equal to
//! what it was before the round trip.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use common::{run, small_spec, SUCCESS_LINE};
use mantis_testkit::TestDb;

/// The major version of the `pg_dump` on PATH, if any.
fn local_pg_dump_major() -> Option<i32> {
    let out = std::process::Command::new("pg_dump")
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .nth(2)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

async fn server_major(db: &TestDb) -> i32 {
    common::scalar(db, "current_setting('server_version_num')::int / 10000")
        .await
        .parse()
        .unwrap()
}

/// `deploy` with its backup when the local pg_dump can dump this server; when
/// the server is newer, deploy refuses before changing anything (exit 2,
/// naming the versions), and `--no-backup` is the documented way on.
async fn deploy(db: &TestDb, dir: &std::path::Path) {
    let file = dir.join("before-003.dump");
    let log = dir.join("deploy.log");
    let (file, log) = (file.to_str().unwrap(), log.to_str().unwrap());
    let dump_major = local_pg_dump_major().expect("pg_dump on PATH");
    let server = server_major(db).await;
    if dump_major < server {
        let refused = run(db, &["deploy", "--backup-file", file, "--log", log]).expect_code(2);
        let expect =
            format!("is version {dump_major}, older than the server (PostgreSQL {server})");
        assert!(refused.stderr.contains(&expect), "{}", refused.stderr);
        assert!(refused.stderr.contains("--no-backup"), "{}", refused.stderr);
        let status = run(db, &["status", "--format", "json"]).expect_code(0);
        assert!(
            status.stdout.contains("\"pending\""),
            "nothing applied: {}",
            status.stdout
        );
        let log = dir.join("deploy-without-backup.log");
        let out = run(
            db,
            &["deploy", "--no-backup", "--log", log.to_str().unwrap()],
        );
        assert!(out.expect_code(0).stdout.contains(SUCCESS_LINE));
    } else {
        let out = run(db, &["deploy", "--backup-file", file, "--log", log]).expect_code(0);
        assert!(out.stdout.contains(SUCCESS_LINE), "{}", out.stdout);
        assert!(
            std::fs::metadata(file).unwrap().len() > 0,
            "the backup was written"
        );
    }
}

/// Plain `verify` passes, with the checks of 001, 003 and 004.
fn verifies_the_whole_schema(db: &TestDb) {
    let verified = run(db, &["verify"]).expect_code(0);
    assert!(
        verified.stdout.contains(SUCCESS_LINE),
        "{}",
        verified.stdout
    );
    for version in ["001", "003", "004"] {
        let header = format!("checks of {version}_");
        assert!(verified.stdout.contains(&header), "{}", verified.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_migration_story_on_this_server() {
    let db = TestDb::empty("story").await;
    let dir = tempfile::tempdir().unwrap();
    run(&db, &["up", "--to", "1"]).expect_code(0);
    let products = small_spec().products.to_string();
    run(&db, &["seed", "--products", &products]).expect_code(0);
    deploy(&db, dir.path()).await;
    verifies_the_whole_schema(&db);
    run(&db, &["health"]).expect_code(0);

    let tables = mantis_testkit::TABLES_OF_003;
    let before = mantis_testkit::table_digests(&db.client().await, tables).await;
    run(&db, &["down", "--to", "1"]).expect_code(0);
    assert!(!common::exists(&db, "core.stock_movement").await);
    run(&db, &["up", "--restore-saved", "latest"]).expect_code(0);
    let after = mantis_testkit::table_digests(&db.client().await, tables).await;
    assert_eq!(
        before, after,
        "down and up with the saved data give back every row"
    );
    verifies_the_whole_schema(&db);
}
