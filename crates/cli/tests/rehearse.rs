#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! `mantis rehearse`: the pending migrations run on a copy, each statement
//! measured; the target is never touched.

mod common;

use common::{count, run, scalar, small_spec};
use mantis_testkit::TestDb;

fn statements_of(version: u64) -> usize {
    mantis_schema::migrations()
        .unwrap()
        .get(version)
        .unwrap()
        .up
        .statements
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rehearse_reports_every_statement_and_leaves_the_target_alone() {
    let db = TestDb::seeded("cli_rehearse", &small_spec(), 1).await;
    let before = common::fingerprint(&db).await;
    let json = run(
        &db,
        &[
            "--format",
            "json",
            "rehearse",
            "--probe",
            "core.stock_on_hand",
        ],
    )
    .expect_code(0)
    .json();
    assert_eq!(json["copy"]["method"], "template");
    assert_eq!(json["kept"], false);
    let statements = json["statements"].as_array().unwrap();
    assert_eq!(
        statements.len(),
        statements_of(3) + statements_of(4) + statements_of(5) + statements_of(6),
        "one line per statement of 003 to 006"
    );
    assert!(
        statements.iter().all(|s| s["duration"].is_u64()),
        "every statement finished"
    );
    let probes = json["probes"].as_array().unwrap();
    assert_eq!(
        probes.len(),
        3,
        "a reader and a writer of the table asked for, and the control"
    );
    assert!(
        probes.iter().all(
            |p| (p["table"] == "core.stock_on_hand" || p["kind"] == "control")
                && p["queries"].as_u64().unwrap() > 5
        ),
        "{probes:?}"
    );
    // The opening balances hold SHARE on stock_on_hand for their transaction,
    // and 003 adds columns under ACCESS EXCLUSIVE: the sampler sees the strongest.
    let strongest: Vec<&str> = statements
        .iter()
        .flat_map(|s| s["locks"].as_array().unwrap())
        .filter(|l| l[0] == "core.stock_on_hand")
        .map(|l| l[1].as_str().unwrap())
        .collect();
    assert!(!strongest.is_empty(), "locks on stock_on_hand were seen");
    // 003 writes an opening balance per stock row and a cost on most: its
    // WAL is at least 100 bytes per stock row.
    let wal_003: u64 = statements
        .iter()
        .filter(|s| s["version"] == 3)
        .filter_map(|s| s["wal_bytes"].as_u64())
        .sum();
    let stock_rows = count(&db, "core.stock_on_hand").await;
    assert!(
        wal_003 >= u64::try_from(stock_rows).unwrap() * 100,
        "003 wrote {wal_003} bytes of WAL for {stock_rows} stock rows"
    );
    // The copy starts after a checkpoint, so the first change of each page
    // writes a full-page image; servers count them from PostgreSQL 14 on.
    let images: Vec<Option<u64>> = statements.iter().map(|s| s["fpi"].as_u64()).collect();
    let version: i32 = scalar(&db, "current_setting('server_version_num')")
        .await
        .parse()
        .unwrap();
    if version >= 140_000 {
        let total: u64 = images.iter().flatten().sum();
        assert!(total > 0, "{images:?}");
    } else {
        assert!(images.iter().all(Option::is_none), "{images:?}");
    }

    assert_eq!(
        common::fingerprint(&db).await,
        before,
        "the target is untouched"
    );
    assert_eq!(
        scalar(&db, "SELECT max(version) FROM mantis.schema_migrations").await,
        "1"
    );
    assert_eq!(
        count(
            &db,
            &format!("pg_database WHERE datname LIKE '{}_rehearse_%'", db.name())
        )
        .await,
        0,
        "the copy is dropped"
    );

    let text = run(&db, &["rehearse", "--keep"]).expect_code(0);
    assert!(
        text.stdout.contains("template copy of") && text.stdout.contains(", kept"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("003 #1 (line ")
            && text.stdout.contains("probes (a query every 20 ms")
            && text
                .stdout
                .contains("WAL written while each migration ran (all sessions): 003 "),
        "{}",
        text.stdout
    );
    let kept = scalar(
        &db,
        &format!(
            "SELECT datname FROM pg_database WHERE datname LIKE '{}_rehearse_%'",
            db.name()
        ),
    )
    .await;
    let admin = db.client().await;
    admin
        .batch_execute(&format!("DROP DATABASE \"{kept}\""))
        .await
        .unwrap();

    run(&db, &["rehearse", "--probe", "core.nope"]).expect_code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_target_is_copied_with_pg_dump() {
    let db = TestDb::seeded("cli_rehearse_busy", &small_spec(), 1).await;
    let _app = db.client().await; // another session: a file copy is impossible
    let json = run(&db, &["--format", "json", "rehearse"])
        .expect_code(0)
        .json();
    assert_eq!(json["copy"]["method"], "dump");
    assert!(json["copy"]["size_bytes"].as_i64().unwrap() > 1_000_000);
    assert_eq!(
        json["probes"].as_array().unwrap().len(),
        7,
        "reader and writer of the 3 largest tables, and the control"
    );
    let template = run(&db, &["rehearse", "--copy", "template"]).expect_code(5);
    assert!(
        template
            .stderr
            .contains("other sessions are connected to it")
            && template.stderr.contains("--copy dump"),
        "{}",
        template.stderr
    );
}

/// The gate: with the shop's workload, a `--max-wait` nothing can meet fails
/// with exit 8 and says why; the invariants are reported (and hold).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rehearse_with_the_workload_reports_its_invariants_and_gates_on_max_wait() {
    let db = mantis_testkit::TestDb::seeded("rehearse_gate", &common::small_spec(), 1).await;
    let out = common::run(
        &db,
        &[
            "--format",
            "json",
            "rehearse",
            "--workload",
            "--workload-rate",
            "200",
            "--max-wait",
            "1ms",
        ],
    )
    .expect_code(8);
    let json = out.json();
    let workload = &json["workload"];
    assert!(workload["operations"].as_u64().unwrap() > 50, "{workload}");
    assert_eq!(workload["failed"], 0, "{workload}");
    let invariants = workload["invariants"].as_array().unwrap();
    assert_eq!(invariants.len(), 3, "{workload}");
    assert!(
        invariants.iter().all(|i| i["violations"] == 0),
        "{workload}"
    );
    let over = json["gate"]["over"].as_array().unwrap();
    assert!(!over.is_empty(), "{json}");
    assert!(
        out.stderr.contains("exceeded --max-wait 1ms"),
        "{}",
        out.stderr
    );
    assert_eq!(
        common::count(&db, "mantis.schema_migrations").await,
        1,
        "the target was not touched"
    );
}

/// A probe held up by a lock the migration holds says so: the wait is
/// attributed to `Lock:…` (not to a commit or I/O stall).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_that_waited_on_the_migrations_lock_says_it_waited_on_a_lock() {
    let db = TestDb::empty("rehearse_waits").await;
    let dir = common::Dir::with(&[
        (
            "001_t.up.sql",
            "CREATE TABLE t (id int PRIMARY KEY, v int);\nINSERT INTO t SELECT i, i FROM generate_series(1, 100) i;",
        ),
        (
            "002_hold.up.sql",
            "LOCK TABLE t IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(0.6);",
        ),
    ]);
    run(&db, &["up", "--source", &dir.arg(), "--to", "1"]).expect_code(0);
    let json = run(
        &db,
        &[
            "--format",
            "json",
            "rehearse",
            "--source",
            &dir.arg(),
            "--probe",
            "public.t",
            "--max-wait",
            "100ms",
            "--max-stall",
            "10s",
        ],
    )
    .expect_code(8)
    .json();
    assert_eq!(json["gate"]["max_stall"], 10_000, "{json}");
    let probes = json["probes"].as_array().unwrap();
    let (control, tables): (Vec<_>, Vec<_>) = probes.iter().partition(|p| p["kind"] == "control");
    assert_eq!(tables.len(), 2, "{json}");
    for probe in tables {
        assert!(probe["longest_ms"].as_u64().unwrap() >= 300, "{probe}");
        let on = probe["waiting_on"].as_str().unwrap_or_default();
        assert!(on.starts_with("Lock:"), "{probe}");
        // No server-wide stall excuses a lock wait.
        let own = &probe["beyond_stalls"];
        assert!(own["ms"].as_u64().unwrap() >= 300, "{probe}");
        assert!(
            own["waiting_on"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Lock:"),
            "{probe}"
        );
    }
    // The control commit touches no table: the lock held none of it up.
    let [control] = control[..] else {
        panic!("one control probe: {json}")
    };
    assert!(control["queries"].as_u64().unwrap() > 5, "{control}");
    assert!(control["error"].is_null(), "{control}");
    assert!(control["longest_ms"].as_u64().unwrap() < 300, "{control}");
    assert!(control["beyond_stalls"].is_null(), "{control}");
    let over = json["gate"]["over"].to_string();
    assert!(over.contains("beyond the server-wide stalls"), "{over}");
    assert!(over.contains("waiting on Lock:"), "{over}");
    assert_eq!(json["gate"]["stalls"], serde_json::json!([]), "{json}");
    assert!(!over.contains("the server stalled"), "{over}");
    // --max-stall is a part of the --max-wait gate.
    run(&db, &["rehearse", "--max-stall", "1s"]).expect_code(2);
}

/// A migration that drops and creates a table again takes its grants with
/// it: the rehearsal names the privilege each role lost (and fails the
/// gate), and a new table none of the database's roles may use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rehearse_names_the_privileges_a_role_would_lose() {
    let db = TestDb::empty("rehearse_roles").await;
    let role = format!("{}_app", db.name());
    let dir = common::Dir::with(&[
        (
            "001_t.up.sql",
            "CREATE TABLE t (id int PRIMARY KEY);\nCREATE TABLE kept (id int PRIMARY KEY);",
        ),
        (
            "002_recreate.up.sql",
            "DROP TABLE t;\nCREATE TABLE t (id bigint PRIMARY KEY);\nCREATE TABLE added (id int);",
        ),
    ]);
    run(&db, &["up", "--source", &dir.arg(), "--to", "1"]).expect_code(0);
    let client = db.client().await;
    client
        .batch_execute(&format!(
            "CREATE ROLE {role} NOLOGIN; GRANT SELECT, UPDATE ON t, kept TO {role};"
        ))
        .await
        .unwrap();
    drop(client); // an idle target is copied as a template (no pg_dump needed)
    let out = run(
        &db,
        &[
            "--format",
            "json",
            "rehearse",
            "--source",
            &dir.arg(),
            "--max-wait",
            "10s",
        ],
    )
    .expect_code(8);
    let json = out.json();
    let roles = &json["roles"];
    assert_eq!(
        roles["roles"],
        serde_json::json!([format!("{role} (SELECT, UPDATE on 2 relation(s))")])
    );
    assert_eq!(
        roles["lost"],
        serde_json::json!([
            format!("{role}: SELECT on t"),
            format!("{role}: UPDATE on t")
        ])
    );
    assert_eq!(roles["new_without_grants"], serde_json::json!(["added"]));
    assert!(
        out.stderr
            .contains(&format!("a role lost a privilege: {role}: UPDATE on t")),
        "{}",
        out.stderr
    );
    let text = run(&db, &["rehearse", "--source", &dir.arg()]).expect_code(0);
    assert!(
        text.stdout.contains(&format!("LOST: {role}: SELECT on t"))
            && text
                .stdout
                .contains("new, and none of them may use it: added"),
        "{}",
        text.stdout
    );
    db.client()
        .await
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .await
        .unwrap();
}

/// What stops the migrations on the copy keeps its exit code: a refusal is
/// 5 (here: a table the migration creates already exists), a failed
/// statement 6; the target is untouched either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehearsal_stopped_on_the_copy_exits_with_the_code_of_what_stopped_it() {
    let db = TestDb::empty("rehearse_exit_codes").await;
    let refused = common::Dir::with(&[
        ("001_t.up.sql", "CREATE TABLE t (id int PRIMARY KEY);"),
        ("002_u.up.sql", "CREATE TABLE u (id int PRIMARY KEY);"),
    ]);
    run(&db, &["up", "--source", &refused.arg(), "--to", "1"]).expect_code(0);
    let client = db.client().await;
    client
        .batch_execute("CREATE TABLE u (other text)")
        .await
        .unwrap();
    drop(client); // an idle target is copied as a template
    let out = run(&db, &["rehearse", "--source", &refused.arg()]).expect_code(5);
    assert!(
        out.stderr.contains("the rehearsal stopped") && out.stderr.contains("already exists"),
        "{}",
        out.stderr
    );
    let failing = common::Dir::with(&[
        ("001_t.up.sql", "CREATE TABLE t (id int PRIMARY KEY);"),
        ("002_u.up.sql", "SELECT 1 / 0;"),
    ]);
    let out = run(&db, &["rehearse", "--source", &failing.arg()]).expect_code(6);
    assert!(out.stderr.contains("22012"), "{}", out.stderr);
    assert_eq!(
        common::scalar(&db, "SELECT max(version) FROM mantis.schema_migrations").await,
        "1",
        "the target is untouched"
    );
}

/// A server that is not quiet: every core of the machine spinning while
/// 003 to 006 run under the workload. No reader or writer waits past the
/// gate (100 ms) on a lock a batch holds: each batch is cut at its lock
/// budget (80 ms), and holds its locks for one message to the server, its
/// commit asynchronous. (The gate as a whole also judges WAL flush stalls,
/// which a busy machine's disk and CPU make server-wide; those are not
/// asserted here.) The workload's invariants hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_core_busy_no_one_waits_past_the_gate_for_a_batchs_locks() {
    let spec = mantis_testkit::Spec {
        products: 3000,
        ..mantis_testkit::Spec::default()
    };
    let db = TestDb::seeded("rehearse_busy", &spec, 1).await;
    let busy = mantis_testkit::BusyCores::start();
    assert!(busy.cores() >= 1);
    let out = run(
        &db,
        &[
            "--format",
            "json",
            "rehearse",
            "--workload",
            "--max-wait",
            "100ms",
        ],
    );
    drop(busy);
    assert!(matches!(out.code, 0 | 8), "{}", out.stderr);
    let json = out.json();
    let over = json["gate"]["over"].as_array().unwrap();
    let on_locks: Vec<&serde_json::Value> = over
        .iter()
        .filter(|o| o.as_str().unwrap().contains("waiting on Lock:"))
        .collect();
    assert!(on_locks.is_empty(), "{on_locks:?}\n{}", out.stderr);
    let workload = &json["workload"];
    assert!(workload["operations"].as_u64().unwrap() > 50, "{workload}");
    assert_eq!(workload["failed"], 0, "{workload}");
    let invariants = workload["invariants"].as_array().unwrap();
    assert!(
        invariants.iter().all(|i| i["violations"] == 0),
        "{workload}"
    );
}
