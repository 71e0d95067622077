//! A real streaming standby (pg_basebackup of a private server): preflight
//! lists it and an abandoned replication slot; with the standby's replay
//! paused, `mantis up` holds its batches once the standby is further behind
//! than `--max-replication-lag` (in bytes), says so, keeps the lag within the
//! limit plus about one batch, and finishes when replay resumes.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{mantis, run_url};
use mantis_migrate::ConnectOptions;
use mantis_testkit::PrivateServer;
use tokio_postgres::Client;

const PASSWORD: &str = "a-standby-password";
const LIMIT_MB: u64 = 2;

async fn connect(url: &str) -> Client {
    mantis_testkit::connect(&ConnectOptions::resolve(Some(url)).unwrap()).await
}

/// WAL the primary has written that the standby has not replayed, in bytes
/// (None before it streams).
async fn behind(primary: &Client) -> Option<i64> {
    primary
        .query_opt(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint \
             FROM pg_stat_replication WHERE application_name = 'replica_a' AND state = 'streaming'",
            &[],
        )
        .await
        .unwrap()
        .and_then(|row| row.get(0))
}

async fn wal_lsn(primary: &Client) -> String {
    primary
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_wait_for_a_standby_that_falls_behind_in_bytes() {
    let server = PrivateServer::start(PASSWORD);
    let admin_url = server.url(PASSWORD, "disable");
    let url = admin_url.replace("/postgres?", "/standby_db?");
    let admin = connect(&admin_url).await;
    // Only the migration writes WAL while the standby is paused.
    for statement in [
        "ALTER SYSTEM SET autovacuum = off",
        "SELECT pg_reload_conf()",
        "CREATE DATABASE standby_db",
    ] {
        admin.batch_execute(statement).await.unwrap();
    }
    run_url(&url, &["up", "--to", "1"]).expect_code(0);
    run_url(&url, &["seed", "--products", "4000", "--warehouses", "3"]).expect_code(0);
    let standby = server.start_standby(PASSWORD, "replica_a");
    let started = Instant::now();
    while behind(&admin).await != Some(0) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the standby never caught up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Preflight names the standby, and warns about a slot nobody consumes.
    admin
        .batch_execute("SELECT pg_create_physical_replication_slot('gone_consumer', true)")
        .await
        .unwrap();
    let preflight = run_url(&url, &["deploy", "--dry-run"]).expect_code(0);
    let told = &preflight.stderr;
    assert!(
        told.contains("ok   standbys: replica_a (127.0.0.1) (")
            && told.contains(" behind); batches wait"),
        "{told}"
    );
    assert!(
        told.contains("warn replication slots: gone_consumer physical (NO CONSUMER, keeps"),
        "{told}"
    );
    assert!(told.contains("pg_drop_replication_slot"), "{told}");
    // So does the plan.
    let plan = run_url(&url, &["plan"]).expect_code(0).stdout;
    assert!(
        plan.contains("  ok   standbys: replica_a (127.0.0.1) (")
            && plan.contains("  warn replication slots: gone_consumer physical (NO CONSUMER"),
        "{plan}"
    );

    // Rehearse lists them too (its copy's WAL goes to the same standbys and
    // slots), and samples how far the standby falls behind, per statement.
    let rehearsed = run_url(&url, &["--format", "json", "rehearse"]).expect_code(0);
    let doc = rehearsed.json();
    let statements = doc["statements"].as_array().unwrap().clone();
    assert!(
        statements
            .iter()
            .any(|s| s["standby_behind_bytes"].is_u64()),
        "no statement saw the standby: {statements:?}"
    );
    let replication = doc["replication"].as_array().unwrap();
    assert!(
        replication.iter().any(|f| f["check"] == "replication slots"
            && f["warning"] == true
            && f["detail"].as_str().unwrap().contains("gone_consumer")),
        "{replication:?}"
    );
    admin
        .batch_execute("SELECT pg_drop_replication_slot('gone_consumer')")
        .await
        .unwrap();
    let text = run_url(&url, &["rehearse"]).expect_code(0);
    assert!(
        text.stdout.contains("standbys: furthest behind ")
            && text
                .stdout
                .contains("  ok   standbys: replica_a (127.0.0.1) (")
            && text.stdout.contains("  ok   replication slots: "),
        "{}",
        text.stdout
    );

    let replica = connect(&standby.url(PASSWORD)).await;
    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    let wal_before = wal_lsn(&admin).await;
    let limit = format!("{LIMIT_MB}MB");
    let mut up = mantis()
        .args([
            "--database-url",
            &url,
            "up",
            "--max-replication-lag",
            &limit,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let reader = {
        let stderr = Arc::clone(&stderr);
        let pipe = up.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut text = stderr.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        })
    };
    let said = |what: &str| stderr.lock().unwrap().contains(what);

    // Up holds its batches, and says which standby and how far behind.
    let mut most_behind = 0;
    let started = Instant::now();
    while !said("batches held") {
        assert!(
            up.try_wait().unwrap().is_none(),
            "up ended without waiting for the standby:\n{}",
            stderr.lock().unwrap()
        );
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "up never waited"
        );
        most_behind = most_behind.max(behind(&admin).await.unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        said("standby replica_a (127.0.0.1) is ") && said("--max-replication-lag 2MB"),
        "{}",
        stderr.lock().unwrap()
    );
    // While the standby replays nothing, up stays held: no more than the
    // limit plus about one batch is ever waiting on the standby.
    let held = Instant::now();
    while held.elapsed() < Duration::from_secs(3) {
        assert!(
            up.try_wait().unwrap().is_none(),
            "up went on while the standby was paused"
        );
        most_behind = most_behind.max(behind(&admin).await.unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let limit_bytes = i64::try_from(LIMIT_MB << 20).unwrap();
    assert!(
        most_behind > limit_bytes && most_behind < limit_bytes + (3 << 20),
        "the standby fell {most_behind} bytes behind (limit {limit_bytes})"
    );

    replica
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    let status = tokio::task::spawn_blocking(move || up.wait().unwrap())
        .await
        .unwrap();
    reader.join().unwrap();
    let stderr = stderr.lock().unwrap().clone();
    assert!(status.success(), "up failed:\n{stderr}");
    assert!(stderr.contains("standbys caught up after"), "{stderr}");
    // The migration wrote many times the limit: the limit did the pacing.
    let written: i64 = admin
        .query_one(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)::bigint",
            &[&wal_before],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        written > 5 * limit_bytes,
        "up wrote only {written} bytes of WAL"
    );
    drop(standby);
}
