//! Online execution: lock-timeout retries of whole blocks that name who holds
//! the lock, and batched statements that commit batch by batch and resume.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use std::time::Duration;

use common::{backfill_dir, count, finish, run, scalar, spawn, spawn_up_retrying, Dir};
use mantis_testkit::TestDb;

const TABLE: &str = "CREATE TABLE t (a int);\nCREATE TABLE log (n int);";

/// A reader holding ACCESS SHARE on `t` in an open transaction, named so
/// that the runner's report can be checked; returns its pid.
async fn reader_in_transaction(db: &TestDb) -> (tokio_postgres::Client, i32) {
    let reader = db.client().await;
    let pid: i32 = reader
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    reader
        .batch_execute("SET application_name = 'the-reader'; BEGIN; SELECT count(*) FROM t;")
        .await
        .unwrap();
    (reader, pid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_timeout_inside_a_block_retries_the_whole_block_and_names_the_holder() {
    let db = TestDb::empty("block_retry").await;
    let dir = Dir::with(&[
        ("001_t.up.sql", TABLE),
        (
            "002_alter.up.sql",
            "-- mantis: no-transaction\n\
             BEGIN;\n\
             INSERT INTO log VALUES (2);\n\
             ALTER TABLE t ADD COLUMN b int;\n\
             COMMIT;\n\
             INSERT INTO log VALUES (3);",
        ),
    ]);
    run(&db, &["up", "--source", &dir.arg(), "--to", "1"]).expect_code(0);
    let (reader, pid) = reader_in_transaction(&db).await;
    let args = |retries: &'static str| {
        vec![
            "up".into(),
            "--source".to_string(),
            dir.arg(),
            "--lock-timeout".into(),
            "200ms".into(),
            "--lock-retries".into(),
            retries.into(),
        ]
    };
    let a1 = args("1");
    let a1: Vec<&str> = a1.iter().map(String::as_str).collect();
    let out = run(&db, &a1).expect_code(6);
    assert!(out.stderr.contains("(attempt 1 of 2)"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("waiting for pid {pid} (the-reader as")),
        "the retry names the holder:\n{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("WAITING FOR: pid {pid} (the-reader as")),
        "the failure names the holder:\n{}",
        out.stderr
    );
    assert!(!out.stderr.contains("25P02"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("no transaction in progress"),
        "the block's own COMMIT ended its transaction:\n{}",
        out.stderr
    );
    assert_eq!(
        count(&db, "log").await,
        0,
        "the block's insert was rolled back"
    );

    // Retried from its BEGIN until the reader is gone: the block ran once.
    let a8 = args("8");
    let a8: Vec<&str> = a8.iter().map(String::as_str).collect();
    let child = spawn(&db, &a8);
    tokio::time::sleep(Duration::from_millis(900)).await;
    reader.batch_execute("COMMIT").await.unwrap();
    let out = finish(child).expect_code(0);
    assert!(out.stderr.contains("retrying in"), "{}", out.stderr);
    assert_eq!(
        scalar(&db, "SELECT string_agg(n::text, ',' ORDER BY n) FROM log").await,
        "2,3"
    );
    assert_eq!(count(&db, "mantis.schema_migrations").await, 2);
}

/// Sends a signal to a process (`STOP`, `CONT`) with kill(1).
fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

/// How many ACCESS EXCLUSIVE locks on `t` are held now.
async fn exclusive_locks_on_t(client: &tokio_postgres::Client) -> i64 {
    let sql = "SELECT count(*) FROM pg_locks \
               WHERE relation = 't'::regclass AND mode = 'AccessExclusiveLock' AND granted";
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_holds_its_locks_while_the_server_works_not_while_mantis_waits_for_a_cpu() {
    let db = TestDb::empty("block_pipelined").await;
    let dir = Dir::with(&[
        ("001_t.up.sql", TABLE),
        (
            "002_alter.up.sql",
            "-- mantis: no-transaction\n\
             BEGIN;\n\
             ALTER TABLE t ADD COLUMN b int;\n\
             SELECT pg_sleep(0.4);\n\
             CREATE TABLE commit_mode AS SELECT current_setting('synchronous_commit') AS v;\n\
             COMMIT;\n\
             INSERT INTO log VALUES (1);",
        ),
    ]);
    run(&db, &["up", "--source", &dir.arg(), "--to", "1"]).expect_code(0);
    let watcher = db.client().await;
    let child = spawn(&db, &["up", "--source", &dir.arg()]);
    let pid = child.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while exclusive_locks_on_t(&watcher).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the block never took its lock"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // mantis stops being scheduled while its block holds ACCESS EXCLUSIVE:
    // the server has the whole block and commits it all the same.
    signal(pid, "STOP");
    let released = async {
        while exclusive_locks_on_t(&watcher).await > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let in_time = tokio::time::timeout(Duration::from_secs(5), released).await;
    signal(pid, "CONT");
    let out = finish(child).expect_code(0);
    assert!(
        in_time.is_ok(),
        "the lock was held while mantis was stopped:\n{}",
        out.stderr
    );
    assert_eq!(
        scalar(&db, "SELECT v FROM commit_mode").await,
        "off",
        "the block commits without holding its locks through the WAL flush"
    );
    assert_eq!(count(&db, "log").await, 1);
    assert_eq!(count(&db, "mantis.schema_migrations").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batched_statement_commits_batch_by_batch_and_resumes_after_the_last_one_done() {
    let db = TestDb::empty("batched").await;
    let dir = Dir::with(&[
        (
            "001_t.up.sql",
            "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, touched int NOT NULL DEFAULT 0, w numeric);\n\
             INSERT INTO t (id, v) SELECT i, CASE WHEN i = 550 THEN 0 ELSE i END FROM generate_series(1, 1000) i;",
        ),
        (
            "002_backfill.up.sql",
            "-- mantis: no-transaction\n\
             SELECT 1;\n\
             -- every row once: 1 / v fails on row 550 until it is fixed\n\
             -- mantis: batch table=public.t key=id rows=100 time=5000ms\n\
             UPDATE t SET touched = touched + 1, w = 1.0 / v\n\
             WHERE id BETWEEN current_setting('mantis.batch_first')::int\n\
                          AND current_setting('mantis.batch_last')::int;\n\
             SELECT 2;",
        ),
    ]);
    run(&db, &["up", "--source", &dir.arg(), "--to", "1"]).expect_code(0);
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(6);
    assert!(out.stderr.contains("22012"), "{}", out.stderr);
    // Slow start: batches of 6, 12, 24, 48, 96 rows, then 100 (rows=), all
    // well within their time: 1-486 commit, 487-586 holds row 550.
    assert!(
        out.stderr.contains("public.t 48% (486 of ~"),
        "{}",
        out.stderr
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FILTER (WHERE touched = 1) || '/' || max(id) FILTER (WHERE touched = 1) FROM t").await,
        "486/486",
        "batches 1-486 committed, the failing batch rolled back"
    );
    assert_eq!(
        scalar(&db, "SELECT batch_after || ' ' || batch_rows || ' ' || statements_done FROM mantis.migration_progress").await,
        "486 486 1"
    );

    // Fixed, resumed while a writer holds a row of a later batch for a while.
    db.client()
        .await
        .batch_execute("UPDATE t SET v = 1 WHERE id = 550")
        .await
        .unwrap();
    let writer = db.client().await;
    writer
        .batch_execute("SET application_name = 'the-writer'; BEGIN; SELECT * FROM t WHERE id = 700 FOR UPDATE;")
        .await
        .unwrap();
    let child = spawn_up_retrying(&db, &dir, "100ms", "10");
    // Held past the control commit's baseline (1.5 s before the first batch).
    tokio::time::sleep(Duration::from_millis(3000)).await;
    writer.batch_execute("COMMIT").await.unwrap();
    let out = finish(child).expect_code(0);
    assert!(
        out.stderr.contains("resuming at statement 2")
            && out
                .stderr
                .contains("public.t: resuming at the key after 486 (486 rows done)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("waiting for pid") && out.stderr.contains("the-writer"),
        "{}",
        out.stderr
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FILTER (WHERE touched = 1) || '/' || count(*) FROM t"
        )
        .await,
        "1000/1000",
        "every row was updated exactly once across both runs"
    );
    assert_eq!(count(&db, "mantis.migration_progress").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_line_in_a_transactional_file_is_refused_before_anything_runs() {
    let db = TestDb::empty("batch_tx").await;
    let dir = Dir::with(&[(
        "001_t.up.sql",
        "CREATE TABLE t (id int PRIMARY KEY);\n-- mantis: batch table=public.t key=id\nUPDATE t SET id = id;",
    )]);
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(4);
    assert!(
        out.stderr.contains("line 3") && out.stderr.contains("no-transaction"),
        "{}",
        out.stderr
    );
    assert!(!common::exists(&db, "t").await);
}

/// 003 and 004 while the shop keeps selling: four connections post receipts
/// and shipments and write quantities directly, on random stock rows, from
/// before 003 until after 004. Nothing may be lost or counted twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_003_and_004_under_load_lose_nothing_and_count_nothing_twice() {
    use mantis_inventory::workload::{self, Outcome, Workload, WorkloadSpec};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let spec = mantis_testkit::Spec {
        products: 8_000,
        warehouses: 3,
        ..mantis_testkit::Spec::default()
    };
    let db = TestDb::seeded("under_load", &spec, 1).await;
    let load = WorkloadSpec {
        clients: 4,
        rate: 400.0,
        rows: 300,
        seed: 7,
    };
    let workload = Workload::prepare(&db.client().await, &load).await.unwrap();
    assert!(
        workload.row_count() >= 200,
        "sample of {}",
        workload.row_count()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for i in 0..load.clients {
        let (w, l, s, c) = (
            workload.clone(),
            load.clone(),
            stop.clone(),
            db.client().await,
        );
        clients.push(tokio::spawn(async move { w.drive(c, i, &l, s).await }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = tokio::task::spawn_blocking({
        let url = db.url();
        move || common::run_url(&url, &["up"])
    })
    .await
    .unwrap()
    .expect_code(0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::new();
    for c in clients {
        logs.push(c.await.unwrap());
    }

    let ops: Vec<_> = logs.iter().flat_map(|l| &l.ops).collect();
    let applied = ops.iter().filter(|o| o.outcome == Outcome::Applied).count();
    let failed: Vec<_> = ops
        .iter()
        .filter_map(|o| match &o.outcome {
            Outcome::Failed(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    assert!(
        applied > 300,
        "the workload ran during the migrations: {applied} applied\n{}",
        out.stderr
    );
    assert!(
        failed.is_empty(),
        "operations failed during the migrations: {failed:?}"
    );

    let client = db.client().await;
    for invariant in workload::check(&client, &workload, &logs).await.unwrap() {
        assert!(invariant.holds(), "{invariant:?}");
        assert!(invariant.rows > 0, "{invariant:?}");
    }
    // Every kind of overlap happened: postings through 003's rule, direct
    // writes before 004 (trued up), direct writes captured by 004's rule.
    let kinds = scalar(
        &db,
        "SELECT count(*) FILTER (WHERE reference_number = 'WORKLOAD' AND seq IS NULL) > 0 \
            AND count(*) FILTER (WHERE reference_number = 'LEDGER-TRUE-UP-004') > 0 \
            AND count(*) FILTER (WHERE reference_number = 'DIRECT-WRITE') > 0 \
            AND count(*) FILTER (WHERE reference_number = 'WORKLOAD' AND seq IS NOT NULL) > 0 \
         FROM core.stock_movement",
    )
    .await;
    assert_eq!(kinds, "true", "some overlap did not happen");
    // Nothing counted twice: each posting that committed is one movement, and
    // 004's true-up of a stock row is at most what was written to it
    // directly (outside any ledger rule) — never negative, never more.
    let posted = ops
        .iter()
        .filter(|o| o.outcome == Outcome::Applied && o.through_ledger)
        .count();
    assert_eq!(
        count(
            &db,
            "core.stock_movement WHERE reference_number = 'WORKLOAD'"
        )
        .await,
        i64::try_from(posted).unwrap()
    );
    let mut direct: std::collections::HashMap<String, rust_decimal::Decimal> = Default::default();
    for o in ops.iter().filter(|o| {
        o.outcome == Outcome::Applied
            && !o.through_ledger
            && o.quantity > rust_decimal::Decimal::ZERO
    }) {
        *direct.entry(o.stock_row.to_string()).or_default() += o.quantity;
    }
    let true_ups = client
        .query(
            "SELECT s.id::text, sum(m.quantity) FROM core.stock_movement m \
             JOIN core.stock_on_hand s USING (product_id, warehouse_id) \
             WHERE m.reference_number = 'LEDGER-TRUE-UP-004' GROUP BY 1",
            &[],
        )
        .await
        .unwrap();
    for row in true_ups {
        let (id, quantity): (String, rust_decimal::Decimal) = (row.get(0), row.get(1));
        let bound = direct.get(&id).copied().unwrap_or_default();
        assert!(
            quantity > rust_decimal::Decimal::ZERO && quantity <= bound,
            "stock row {id}: true-up {quantity}, but only {bound} was written to it directly"
        );
    }
    let verify = common::run(&db, &["verify"]).expect_code(0);
    assert!(
        verify.stdout.contains(common::SUCCESS_LINE),
        "{}",
        verify.stdout
    );
}

/// The run's pacing wins over the file's (`--batch-pause` is accepted beside
/// it): `--batch-time 1ms` shrinks the
/// batches (a file's `rows=100` batch halves until it fits); a replication
/// lag limit with no standby holds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_pace_set_for_a_run_shrinks_the_batches() {
    let db = TestDb::empty("batch_pace").await;
    let dir = Dir::with(&[
        (
            "001_t.up.sql",
            "CREATE TABLE t (id int PRIMARY KEY, touched int NOT NULL DEFAULT 0);\n\
             INSERT INTO t (id) SELECT generate_series(1, 400);",
        ),
        (
            "002_backfill.up.sql",
            "-- mantis: no-transaction\n\
             -- mantis: batch table=public.t key=id rows=100 time=5000ms\n\
             UPDATE t SET touched = touched + 1\n\
             WHERE id BETWEEN current_setting('mantis.batch_first')::int\n\
                          AND current_setting('mantis.batch_last')::int;",
        ),
    ]);
    let out = run(
        &db,
        &[
            "up",
            "--source",
            &dir.arg(),
            "--batch-time",
            "1ms",
            "--batch-pause",
            "1ms",
            "--max-replication-lag",
            "1s",
        ],
    )
    .expect_code(0);
    let sizes: Vec<u64> = out
        .stderr
        .lines()
        .filter_map(|l| l.split("last batch ").nth(1))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect();
    assert!(!sizes.is_empty(), "{}", out.stderr);
    assert!(
        sizes.iter().any(|n| *n < 100),
        "batches stayed at 100 rows: {sizes:?}"
    );
    assert_eq!(
        count(&db, "t WHERE touched = 1").await,
        400,
        "every row once"
    );
}

/// `order=physical`: the page walk writes rows where they lie, resumes at its
/// next page, and the key walk after it finds the rows that moved behind it
/// (a writer's update put them on a page already walked). Every row is
/// changed once. PostgreSQL 12 and 13 walk keys only, with the same result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_physical_walk_resumes_at_its_next_page_and_finds_the_rows_that_moved_behind_it() {
    let db = TestDb::empty("batch_physical").await;
    let dir = Dir::with(&[
        (
            "001_p.up.sql",
            "-- uuids in random order (md5: PostgreSQL 12 has no gen_random_uuid() built in)\n\
             CREATE TABLE p (id uuid PRIMARY KEY, i int NOT NULL,\n\
                             v int NOT NULL, touched int NOT NULL DEFAULT 0, w numeric);\n\
             INSERT INTO p (id, i, v) SELECT md5(i::text)::uuid, i, CASE WHEN i = 12000 THEN 0 ELSE i END\n\
             FROM generate_series(1, 20000) i;",
        ),
        (
            "002_backfill.up.sql",
            "-- mantis: no-transaction\n\
             -- every row once: 1 / v fails on row i = 12000 until it is fixed\n\
             -- mantis: batch table=public.p key=id order=physical rows=500 time=5000ms\n\
             UPDATE p SET touched = touched + 1, w = 1.0 / v\n\
             WHERE ctid BETWEEN current_setting('mantis.batch_first_ctid')::tid\n\
                            AND current_setting('mantis.batch_last_ctid')::tid\n\
               AND id BETWEEN current_setting('mantis.batch_first')::uuid\n\
                          AND current_setting('mantis.batch_last')::uuid\n\
               AND w IS NULL;",
        ),
    ]);
    let pages_walked = scalar(&db, "SELECT current_setting('server_version_num')")
        .await
        .parse::<i32>()
        .unwrap()
        >= 140_000;
    run(&db, &["up", "--source", &dir.arg(), "--to", "1"]).expect_code(0);
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(6);
    assert!(out.stderr.contains("22012"), "{}", out.stderr);
    let done = count(&db, "p WHERE touched = 1").await;
    assert!(done < 20_000, "{done} rows done before the failure");
    if !pages_walked {
        // Keys are random: the failing row may fall in the first batch.
        finish_physical(&db, &dir).await;
        return;
    }
    assert!(out.stderr.contains("public.p by page"), "{}", out.stderr);
    assert!(done > 0, "the pages before row 12,000's were done");
    let next_page: i64 = scalar(&db, "SELECT batch_page FROM mantis.migration_progress")
        .await
        .parse()
        .unwrap();
    assert_eq!(
        count(&db, "p WHERE touched = 1 AND i < 12000").await,
        done,
        "the rows done are the ones on the pages before the failing row's"
    );
    assert_eq!(
        scalar(&db, &format!("SELECT count(*) = 0 FROM p WHERE touched = 0 AND (ctid::text::point)[0] < {next_page}")).await,
        "true",
        "every row on a page walked was done"
    );

    // Room on the walked pages, then a writer moves rows not done yet onto them.
    let client = db.client().await;
    for sql in ["UPDATE p SET v = 1 WHERE i = 12000", "VACUUM p"] {
        client.batch_execute(sql).await.unwrap();
    }
    client
        .batch_execute("UPDATE p SET v = v + 0 WHERE touched = 0 AND i > 15000")
        .await
        .unwrap();
    let moved = count(
        &db,
        &format!("p WHERE touched = 0 AND (ctid::text::point)[0] < {next_page}"),
    )
    .await;
    assert!(
        moved > 0,
        "no row moved behind the walk: the test proves nothing"
    );
    let out = finish_physical(&db, &dir).await;
    assert!(out.contains("public.p: resuming at page "), "{out}");
}

/// Resumes the failed backfill and checks that every row was changed once.
async fn finish_physical(db: &TestDb, dir: &Dir) -> String {
    db.client()
        .await
        .batch_execute("UPDATE p SET v = 1 WHERE i = 12000")
        .await
        .unwrap();
    let out = run(db, &["up", "--source", &dir.arg()]).expect_code(0);
    assert_eq!(
        scalar(
            db,
            "SELECT count(*) FILTER (WHERE touched = 1) || '/' || count(*) FROM p"
        )
        .await,
        "20000/20000",
        "every row was changed exactly once across both runs"
    );
    assert_eq!(count(db, "mantis.migration_progress").await, 0);
    out.stderr
}

/// A history schema written by an older mantis (no batch columns) gets them
/// on the next run, before a batched statement needs them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_history_schema_gets_the_batch_columns() {
    let db = TestDb::empty("batch_history").await;
    let dir = Dir::with(&[
        (
            "001_t.up.sql",
            "CREATE TABLE t (id int PRIMARY KEY, touched int NOT NULL DEFAULT 0);\n\
             INSERT INTO t (id) SELECT generate_series(1, 300);",
        ),
        (
            "002_backfill.up.sql",
            "-- mantis: no-transaction\n\
             -- mantis: batch table=public.t key=id order=physical rows=100\n\
             UPDATE t SET touched = touched + 1\n\
             WHERE ctid BETWEEN current_setting('mantis.batch_first_ctid')::tid\n\
                            AND current_setting('mantis.batch_last_ctid')::tid\n\
               AND id BETWEEN current_setting('mantis.batch_first')::int\n\
                          AND current_setting('mantis.batch_last')::int\n\
               AND touched = 0;",
        ),
    ]);
    run(&db, &["up", "--source", &dir.arg(), "--to", "1"]).expect_code(0);
    db.client()
        .await
        .batch_execute(
            "ALTER TABLE mantis.migration_progress DROP COLUMN batch_after, DROP COLUMN batch_rows, \
             DROP COLUMN batch_page, DROP COLUMN batch_page_end",
        )
        .await
        .unwrap();
    run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    assert_eq!(
        count(&db, "t WHERE touched = 1").await,
        300,
        "every row once"
    );
}

/// A batch's own settings: no JIT compilation (it would cost a short batch
/// more than its work) and an asynchronous commit, in the batch's
/// transaction only; the next statement has the session's settings again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_runs_without_jit_and_commits_asynchronously_and_only_the_batch() {
    let db = TestDb::empty("batch_settings").await;
    let dir = Dir::with(&[
        (
            "001_t.up.sql",
            "CREATE TABLE t (id int PRIMARY KEY, jit text, commit_mode text);\n\
             INSERT INTO t (id) SELECT generate_series(1, 300);\n\
             CREATE TABLE after_batches (jit text, commit_mode text);",
        ),
        (
            "002_backfill.up.sql",
            "-- mantis: no-transaction\n\
             -- mantis: batch table=public.t key=id rows=100 time=5000ms\n\
             UPDATE t SET jit = current_setting('jit'), commit_mode = current_setting('synchronous_commit')\n\
             WHERE id BETWEEN current_setting('mantis.batch_first')::int\n\
                          AND current_setting('mantis.batch_last')::int;\n\
             INSERT INTO after_batches SELECT current_setting('jit'), current_setting('synchronous_commit');",
        ),
    ]);
    run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(DISTINCT jit || ' ' || commit_mode, ',') || ' ' || count(*) FROM t"
        )
        .await,
        "off off 300",
        "every batch without JIT and with an asynchronous commit"
    );
    let server = scalar(
        &db,
        "SELECT current_setting('jit') || ' ' || current_setting('synchronous_commit')",
    )
    .await;
    assert_eq!(
        scalar(&db, "SELECT jit || ' ' || commit_mode FROM after_batches").await,
        server,
        "the statement after the batches runs with the session's settings"
    );
}

/// The migration session asks the OS to write what it evicts after 2 MB
/// (`backend_flush_after`), unless the run says otherwise; a size the server
/// would refuse is refused before connecting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_session_flushes_what_it_writes_as_it_goes() {
    let db = TestDb::empty("flush_after").await;
    let dir = Dir::with(&[
        (
            "001_log.up.sql",
            "CREATE TABLE seen (setting text NOT NULL);",
        ),
        (
            "002_see.up.sql",
            "INSERT INTO seen SELECT current_setting('backend_flush_after');",
        ),
        (
            "003_see.up.sql",
            "INSERT INTO seen SELECT current_setting('backend_flush_after');",
        ),
    ]);
    run(&db, &["up", "--source", &dir.arg(), "--to", "2"]).expect_code(0);
    run(
        &db,
        &["up", "--source", &dir.arg(), "--flush-after", "256kB"],
    )
    .expect_code(0);
    let seen = scalar(
        &db,
        "SELECT string_agg(setting, ',' ORDER BY ctid) FROM seen",
    )
    .await;
    assert_eq!(seen, "2MB,256kB");
    let refused = run(&db, &["up", "--source", &dir.arg(), "--flush-after", "4MB"]).expect_code(2);
    assert!(refused.stderr.contains("up to 2MB"), "{}", refused.stderr);
}

/// The migration session compresses the full-page images its writes log
/// (`wal_compression`: lz4 where the server has it, else pglz) when the
/// server compresses none; the session after the run is back to the
/// server's setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_session_compresses_its_full_page_images() {
    let db = TestDb::empty("wal_compression").await;
    let server_setting = scalar(&db, "current_setting('wal_compression')").await;
    let dir = Dir::with(&[
        (
            "001_log.up.sql",
            "CREATE TABLE seen (setting text NOT NULL);",
        ),
        (
            "002_see.up.sql",
            "INSERT INTO seen SELECT current_setting('wal_compression');",
        ),
    ]);
    run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    let seen = scalar(&db, "SELECT setting FROM seen").await;
    if server_setting == "off" {
        assert!(
            ["lz4", "pglz", "on"].contains(&seen.as_str()),
            "compressed during the migration: {seen}"
        );
    } else {
        assert_eq!(seen, server_setting, "the server's own compression is kept");
    }
}

/// A concurrent index build cancelled by lock_timeout while it waits for a
/// writer's transaction leaves an INVALID index; the retry drops it and
/// builds it again, rather than letting `IF NOT EXISTS` skip it (which left
/// 003's BRIN index invalid under load).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_index_build_retried_after_a_lock_timeout_ends_valid() {
    let db = TestDb::empty("cic_retry").await;
    let dir = Dir::with(&[
        ("001_t.up.sql", TABLE),
        (
            "002_index.up.sql",
            "-- mantis: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);",
        ),
    ]);
    run(&db, &["up", "--source", &dir.arg(), "--to", "1"]).expect_code(0);
    let writer = db.client().await;
    writer
        .batch_execute("BEGIN; INSERT INTO t VALUES (1);")
        .await
        .unwrap();
    let child = spawn_up_retrying(&db, &dir, "200ms", "10");
    // The build registers its index, then waits for the writer and times out.
    let invalid =
        "SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('t_a') AND NOT indisvalid";
    let watcher = db.client().await;
    let mut seen_invalid = false;
    for _ in 0..50 {
        let n: i64 = watcher.query_one(invalid, &[]).await.unwrap().get(0);
        if n > 0 {
            seen_invalid = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    writer.batch_execute("COMMIT").await.unwrap();
    let out = finish(child).expect_code(0);
    assert!(seen_invalid, "the first build never left an invalid index");
    assert!(
        out.stderr.contains("55P03") || out.stderr.contains("lock"),
        "{}",
        out.stderr
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('t_a')"
        )
        .await,
        "true",
        "{}",
        out.stderr
    );
}

/// A batch running past its lock budget is cut: rolled back and tried at a
/// quarter of its size; when one key alone takes longer than the budget, the
/// statement's budget is raised, not the migration failed. Every row is
/// written exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_past_its_lock_budget_is_cut_and_one_slow_key_raises_the_budget() {
    let db = TestDb::empty("batch_budget").await;
    let dir = Dir::with(&[
        (
            "001_t.up.sql",
            "CREATE TABLE t (id int PRIMARY KEY, touched int NOT NULL DEFAULT 0);\n\
             INSERT INTO t (id) SELECT i FROM generate_series(1, 100) i;",
        ),
        (
            "002_backfill.up.sql",
            "-- mantis: no-transaction\n\
             -- rows 51 to 100 take 30 ms each: over the 20 ms budget alone\n\
             -- mantis: batch table=public.t key=id rows=64 time=10ms hold=20ms\n\
             UPDATE t SET touched = touched + 1\n\
             WHERE id BETWEEN current_setting('mantis.batch_first')::int\n\
                          AND current_setting('mantis.batch_last')::int\n\
               AND (id <= 50 OR pg_sleep(0.03) IS NOT NULL);",
        ),
    ]);
    let out = run(&db, &["up", "--source", &dir.arg()]).expect_code(0);
    assert!(
        out.stderr
            .contains("ran past its lock budget (20 ms); rolled back, trying"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "public.t: one key takes longer than its lock budget on this server now; budget raised to 40 ms"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FILTER (WHERE touched = 1) || '/' || count(*) FROM t"
        )
        .await,
        "100/100",
        "cut batches were rolled back: every row written once"
    );
}

/// The control commits start with a migration that has batched statements,
/// so that their baseline is taken while the statements before its first
/// batch run (here a 4 s sleep) rather than after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_commits_start_with_the_migration_not_its_first_batch() {
    let db = TestDb::empty("control_early").await;
    let dir = backfill_dir(100, "SELECT pg_sleep(4);", 50);
    run(&db, &["up", "--source", &dir.arg(), "--to", "1"]).expect_code(0);
    let child = spawn(&db, &["up", "--source", &dir.arg()]);
    let watcher = db.client().await;
    let seen = |sql: &'static str| {
        let watcher = &watcher;
        async move {
            let row = watcher.query_one(sql, &[]).await.unwrap();
            row.get::<_, i64>(0) > 0
        }
    };
    let started = std::time::Instant::now();
    while !seen("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%' AND state = 'active' AND pid <> pg_backend_pid()").await {
        assert!(started.elapsed() < Duration::from_secs(30), "the sleep never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let control_during_sleep = seen(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '%(control commit)'",
    )
    .await;
    let sleeping = seen("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%' AND state = 'active' AND pid <> pg_backend_pid()").await;
    let out = finish(child).expect_code(0);
    assert!(sleeping, "the check ran after the sleep: {}", out.stderr);
    assert!(
        control_during_sleep,
        "no control commit while the statement before the first batch ran"
    );
    assert!(out.stderr.contains("control commit: p99"), "{}", out.stderr);
    assert_eq!(scalar(&db, "SELECT count(v) FROM t").await, "100");
}
