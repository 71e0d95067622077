//! Through a real PgBouncer (Debian's, started per test by the test kit):
//! commands that need one server session refuse a transaction-mode pooler
//! before doing anything (exit 7) and go through a session-mode one; every
//! read and posting command works through a transaction-mode pooler that
//! hands out its server connections round robin.
//!
//! The pooler sits in front of a private server of its own with password
//! authentication over TCP: a login PgBouncer can make on any machine
//! (the suite's own server may trust only its Unix socket's peers).

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use std::process::{Child, Stdio};

use common::{applied_or_up_to_date, finish, mantis, run_url, Dir, Run};
use mantis_migrate::ConnectOptions;
use mantis_testkit::{PoolMode, Pooler, PrivateServer};

const PASSWORD: &str = "a-pooled-password";

/// A private server, a database on it, and a PgBouncer in front of it.
struct Behind {
    _server: PrivateServer,
    pooler: Pooler,
    server_options: ConnectOptions,
    database: String,
}

impl Behind {
    /// A fresh database `database` behind a PgBouncer in `mode`.
    async fn start(mode: PoolMode, database: &str) -> Behind {
        Self::start_with_pool(mode, database, 20).await
    }

    /// The same, with `pool_size` server connections in the pool.
    async fn start_with_pool(mode: PoolMode, database: &str, pool_size: u32) -> Behind {
        let server = PrivateServer::start(PASSWORD);
        let url = server.url(PASSWORD, "disable");
        let server_options = ConnectOptions::resolve(Some(&url)).unwrap();
        mantis_testkit::connect(&server_options)
            .await
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .await
            .unwrap();
        let pooler = Pooler::start_with_pool(mode, &server_options, pool_size);
        Behind {
            _server: server,
            pooler,
            server_options,
            database: database.to_string(),
        }
    }

    /// The database, directly.
    fn direct(&self) -> String {
        self.server_options
            .with_dbname(&self.database)
            .to_url_with_password()
    }

    /// The database, through the pooler.
    fn pooled(&self) -> String {
        self.pooler.url(&self.database)
    }

    /// One value, read directly, as text.
    async fn scalar(&self, sql: &str) -> String {
        let client =
            mantis_testkit::connect(&self.server_options.with_dbname(&self.database)).await;
        let row = client
            .query_one(&format!("SELECT ({sql})::text"), &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.get::<_, Option<String>>(0).unwrap_or_default()
    }

    async fn count(&self, from: &str) -> i64 {
        self.scalar(&format!("SELECT count(*) FROM {from}"))
            .await
            .parse()
            .unwrap()
    }
}

/// Starts `mantis --database-url URL ARGS` without waiting.
fn spawn_url(url: &str, args: &[&str]) -> Child {
    mantis()
        .arg("--database-url")
        .arg(url)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mantis")
}

/// Five `mantis up` at once through `url`.
fn five_ups(url: &str, source: &str) -> Vec<Run> {
    let children: Vec<_> = (0..5)
        .map(|_| spawn_url(url, &["up", "--source", source]))
        .collect();
    children.into_iter().map(finish).collect()
}

fn small_set() -> Dir {
    Dir::with(&[
        ("001_t.up.sql", "CREATE TABLE t (id int PRIMARY KEY);"),
        (
            "002_slow.up.sql",
            "INSERT INTO t VALUES (2);\nSELECT pg_sleep(0.3);",
        ),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_ups_through_a_transaction_pooler_all_refuse_before_acting() {
    let db = Behind::start(PoolMode::Transaction, "pooler_tx_up").await;
    let dir = small_set();
    let runs = five_ups(&db.pooled(), &dir.arg());
    for out in &runs {
        assert_eq!(out.code, 7, "{out:#?}\npooler log:\n{}", db.pooler.log());
        assert!(
            out.stderr.contains("up needs one server session")
                && out.stderr.contains("transaction-mode connection pooler")
                && out.stderr.contains("--migration-url"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("db error"), "{}", out.stderr);
    }
    // Every other command that needs a session refuses the same way.
    let source = dir.arg();
    let others: [&[&str]; 8] = [
        &["plan", "--source", &source],
        &["down", "--source", &source],
        &["baseline", "--version", "1", "--source", &source],
        &["seed", "--products", "10"],
        &["deploy", "--no-backup", "--source", &source],
        &["rehearse", "--source", &source],
        &["refresh"],
        &["demo", "--database", "pooler_demo"],
    ];
    for args in others {
        let out = run_url(&db.pooled(), args);
        assert_eq!(out.code, 7, "{args:?}: {out:#?}");
        let needs = format!("{} needs one server session", args[0]);
        assert!(out.stderr.contains(&needs), "{args:?}: {}", out.stderr);
    }
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_database WHERE datname LIKE 'pooler_demo%'")
            .await,
        "0",
        "demo created nothing"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'mantis'")
            .await,
        "0",
        "nothing was recorded"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_class WHERE relname = 't'")
            .await,
        "0",
        "nothing was applied"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            .await,
        "0",
        "no lock was left behind on a pooled server connection"
    );
}

/// A small pool (1 and 4 server connections) and five runners at once: the
/// probe never holds a server connection while it waits for another, so
/// every run refuses (exit 7) within seconds, and an application query
/// through the same pool is answered meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_pool_is_never_held_by_the_probe() {
    for pool_size in [1, 4] {
        let db = Behind::start_with_pool(
            PoolMode::Transaction,
            &format!("pooler_small_{pool_size}"),
            pool_size,
        )
        .await;
        let dir = small_set();
        let started = std::time::Instant::now();
        let children: Vec<_> = (0..5)
            .map(|_| spawn_url(&db.pooled(), &["up", "--source", &dir.arg()]))
            .collect();
        // The application's query through the same pool, meanwhile.
        let app = ConnectOptions::resolve(Some(&db.pooled())).unwrap();
        let asked = std::time::Instant::now();
        let client = mantis_testkit::connect(&app).await;
        // The simple protocol, as an application behind a transaction pooler must.
        let rows = client.simple_query("SELECT 41 + 1").await.unwrap();
        let waited = asked.elapsed();
        let answer = rows.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        });
        assert_eq!(answer.as_deref(), Some("42"));
        let runs: Vec<Run> = children.into_iter().map(finish).collect();
        let took = started.elapsed();
        for out in &runs {
            assert_eq!(
                out.code,
                7,
                "pool {pool_size}: {out:#?}\npooler log:\n{}",
                db.pooler.log()
            );
            assert!(
                out.stderr.contains("needs one server session"),
                "{}",
                out.stderr
            );
        }
        assert!(
            took < std::time::Duration::from_secs(30),
            "pool {pool_size}: five runs took {took:?} (the pool's query_wait_timeout is 120 s)"
        );
        assert!(
            waited < std::time::Duration::from_secs(15),
            "pool {pool_size}: the application's query waited {waited:?}"
        );
        assert_eq!(
            db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'mantis'")
                .await,
            "0",
            "nothing was recorded"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_ups_through_a_session_pooler_apply_once() {
    let db = Behind::start(PoolMode::Session, "pooler_session_up").await;
    let dir = small_set();
    let runs = five_ups(&db.pooled(), &dir.arg());
    for out in &runs {
        assert_eq!(out.code, 0, "{out:#?}\npooler log:\n{}", db.pooler.log());
    }
    assert_eq!(applied_or_up_to_date(&runs, 2, "002"), (1, 4), "{runs:#?}");
    assert_eq!(db.count("t").await, 1, "each migration ran once");
    assert_eq!(db.count("mantis.schema_migrations").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_url_takes_the_migrations_past_the_pooler() {
    let db = Behind::start(PoolMode::Transaction, "pooler_direct").await;
    let dir = small_set();
    let pooled = db.pooled();
    let out = Run::from(
        mantis()
            .args(["--database-url", &pooled, "up", "--source", &dir.arg()])
            .env("MANTIS_DIRECT_URL", db.direct())
            .output()
            .unwrap(),
    )
    .expect_code(0);
    assert!(
        out.stdout.contains("applied 2 migration(s)"),
        "{}",
        out.stdout
    );
    // status reads through the pooler, and names no password.
    let status = run_url(&pooled, &["status", "--source", &dir.arg()]).expect_code(0);
    assert!(status.stdout.contains("002"), "{}", status.stdout);
}

/// Every read and posting command, through a transaction-mode pooler whose
/// consecutive transactions land on different server connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_postings_work_through_a_transaction_pooler() {
    let db = Behind::start(PoolMode::Transaction, "pooler_reads").await;
    let direct = db.direct();
    run_url(&direct, &["up", "--to", "1"]).expect_code(0);
    run_url(&direct, &["seed", "--products", "200"]).expect_code(0);
    run_url(&direct, &["up"]).expect_code(0);
    run_url(&direct, &["refresh"]).expect_code(0);
    let url = db.pooled();
    let sku = db
        .scalar("SELECT sku FROM core.products ORDER BY sku LIMIT 1")
        .await;
    let supplier = db
        .scalar("SELECT name FROM core.suppliers ORDER BY name LIMIT 1")
        .await;
    let batch = Dir::with(&[(
        "batch.csv",
        &format!(
            "kind,sku,warehouse,quantity,unit_cost,reference\n\
             receipt,{sku},JHB-01,4,3.25,PO-P1\n\
             receipt,{sku},CPT-01,2,3.50,PO-P2\n"
        ),
    )]);
    let batch_file = batch.file("batch.csv").display().to_string();
    let movements_before = db.count("core.stock_movement").await;
    let commands: Vec<Vec<&str>> = vec![
        vec!["status"],
        vec!["verify"],
        vec!["health"],
        vec!["saved"],
        vec!["report", "valuation"],
        vec!["report", "summary"],
        vec!["report", "low-stock"],
        vec!["brand", "list"],
        vec!["brand", "add", "Pooled Tools"],
        vec!["supplier", "contact", &supplier],
        vec![
            "supplier",
            "contact",
            &supplier,
            "--payment-terms",
            "Net 45",
        ],
        vec![
            "stock",
            "receive",
            "--sku",
            &sku,
            "--warehouse",
            "JHB-01",
            "--quantity",
            "10",
            "--unit-cost",
            "3.00",
            "--reference",
            "PO-P0",
        ],
        vec![
            "stock",
            "ship",
            "--sku",
            &sku,
            "--warehouse",
            "JHB-01",
            "--quantity",
            "3",
        ],
        vec![
            "stock",
            "adjust",
            "--sku",
            &sku,
            "--warehouse",
            "JHB-01",
            "--quantity",
            "-1",
        ],
        vec![
            "stock",
            "transfer",
            "--sku",
            &sku,
            "--from",
            "JHB-01",
            "--to",
            "CPT-01",
            "--quantity",
            "2",
        ],
        vec!["stock", "post", &batch_file],
        vec!["stock", "history", "--sku", &sku],
        vec!["stock", "levels", "--sku", &sku],
    ];
    for args in &commands {
        for format in ["text", "json"] {
            let mut all = vec!["--format", format];
            all.extend(args.iter().copied());
            // The same command twice at once: two clients on the pool's
            // server connections, besides the round robin.
            let twice = [spawn_url(&url, &all), spawn_url(&url, &all)];
            for child in twice {
                let out = finish(child);
                // The second `brand add` of a name is refused (exit 5).
                let idempotent_refusal = args.starts_with(&["brand", "add"]) && out.code == 5;
                assert!(
                    out.code == 0 || idempotent_refusal,
                    "{args:?} ({format}): {out:#?}\npooler log:\n{}",
                    db.pooler.log()
                );
                assert!(!out.stderr.contains("prepared statement"), "{}", out.stderr);
            }
        }
    }
    // A receipt, a shipment and an adjustment of one movement each, a
    // transfer of two and a batch of two, each run four times (two formats,
    // twice at once).
    assert_eq!(
        db.count("core.stock_movement").await - movements_before,
        4 * (3 + 2 + 2)
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM core.stock_on_hand s \
             WHERE s.quantity <> (SELECT coalesce(sum(m.quantity), 0) FROM core.stock_movement m \
                                  WHERE m.product_id = s.product_id AND m.warehouse_id = s.warehouse_id)"
        )
        .await,
        "0",
        "the books balance"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM core.brand WHERE name = 'Pooled Tools'")
            .await,
        "1"
    );
    run_url(
        &url,
        &["brand", "add", "Pooled Spares", "--code", "POOLED_SPARES"],
    )
    .expect_code(0);
    run_url(&url, &["brand", "merge", "POOLED_SPARES", "POOLED_TOOLS"]).expect_code(0);
    assert_eq!(
        db.scalar("SELECT count(*) FROM core.brand WHERE code LIKE 'POOLED_%'")
            .await,
        "1",
        "the merged brand is gone"
    );
}

/// A login the server refuses, through the pooler, shows what was refused
/// and why in the server's words, not the driver's bare "db error".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_through_the_pooler_names_the_reason() {
    let db = Behind::start(PoolMode::Transaction, "pooler_login").await;
    let out = run_url(&db.pooler.url("mantis_no_such_database"), &["status"]).expect_code(3);
    assert!(!out.stderr.contains("db error"), "{}", out.stderr);
    assert!(
        out.stderr.contains("mantis_no_such_database") && out.stderr.contains("does not exist"),
        "{}",
        out.stderr
    );
}

/// A Neon pooled endpoint is known by its name: refused before connecting,
/// naming the direct endpoint, never the password.
#[test]
fn a_neon_pooled_endpoint_is_refused_before_connecting() {
    let pooled = "postgresql://owner:s3cret-pw@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require";
    let out = run_url(pooled, &["up"]).expect_code(7);
    assert!(
        out.stderr
            .contains("ep-cool-darkness-123456.us-east-2.aws.neon.tech"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("s3cret-pw"), "{}", out.stderr);
    assert!(!out.stderr.contains("connected to"), "{}", out.stderr);
}
