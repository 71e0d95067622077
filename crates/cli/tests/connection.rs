//! Connecting like psql does, with clear errors and no password in any output.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use common::{mantis, run_url, Run};
use mantis_testkit::TestDb;

fn run_env(vars: &[(&str, &str)], args: &[&str]) -> Run {
    Run::from(
        mantis()
            .envs(vars.iter().copied())
            .args(args)
            .output()
            .expect("run mantis"),
    )
}

#[test]
fn an_unreachable_server_is_exit_3_with_the_password_masked() {
    let out = run_url("postgresql://alice:hunter2@127.0.0.1:1/inv", &["status"]).expect_code(3);
    assert!(
        out.stderr
            .contains("cannot reach PostgreSQL at postgresql://alice:****@127.0.0.1:1/inv"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("hunter2") && !out.stdout.contains("hunter2"));
    let json = run_url(
        "postgresql://alice:hunter2@127.0.0.1:1/inv",
        &["status", "--format", "json"],
    )
    .expect_code(3);
    assert_eq!(json.json()["error"]["exit_code"], 3);
    assert!(!json.stdout.contains("hunter2"));
}

#[test]
fn an_unknown_sslmode_is_a_usage_error() {
    let out = run_url(
        "postgresql://u:hunter2@127.0.0.1/x?sslmode=maybe",
        &["status"],
    )
    .expect_code(2);
    assert!(
        out.stderr.contains("unknown sslmode `maybe`"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("hunter2"));
}

#[test]
fn bad_arguments_are_exit_2() {
    let out = run_env(&[], &["up", "--to", "three"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("invalid value 'three'"),
        "{}",
        out.stderr
    );
    let out = run_env(&[], &["up", "--lock-wait", "soon"]);
    assert_eq!(out.code, 2, "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_database_is_named() {
    let db = TestDb::empty("missing_db").await;
    let url = db
        .options()
        .with_dbname("mantis_no_such_db")
        .to_url_with_password();
    let out = run_url(&url, &["status"]).expect_code(3);
    assert!(
        out.stderr
            .contains("database \"mantis_no_such_db\" does not exist"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_in_the_url_never_shows_in_success_output() {
    let db = TestDb::empty("masked_ok").await;
    let mut options = db.options();
    // Trust and peer authentication ignore a password; a server that checks
    // one gets the real one. Either way it must stay hidden.
    let password = options
        .password
        .get_or_insert_with(|| "hunter2".into())
        .clone();
    let url = options.to_url_with_password();
    for args in [
        &["up"][..],
        &["status"],
        &["status", "--format", "json"],
        &["plan"],
    ] {
        let out = run_url(&url, args).expect_code(0);
        assert!(
            !out.stdout.contains(&password) && !out.stderr.contains(&password),
            "{args:?}: {out:?}"
        );
    }
    let status = run_url(&url, &["status"]).stdout;
    assert!(status.contains(":****@"), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_come_from_database_url_neon_target_url_and_pg_variables() {
    let db = TestDb::empty("env_resolution").await;
    let o = db.options();
    let url = o.to_url_with_password();
    let port = o.port.to_string();
    let expect = format!("/{}", db.name());
    for vars in [
        vec![("DATABASE_URL", url.as_str())],
        vec![("NEON_TARGET_URL", url.as_str())],
        vec![
            ("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/x"),
            ("NEON_TARGET_URL", url.as_str()),
        ],
        vec![
            ("PGHOST", o.host.as_str()),
            ("PGPORT", &port),
            ("PGUSER", o.user.as_str()),
            ("PGDATABASE", db.name()),
            ("PGPASSWORD", o.password.as_deref().unwrap_or_default()),
        ],
    ] {
        let out = run_env(&vars, &["status"]);
        let is_fallback_case = vars[0].1.contains(":1/x");
        if is_fallback_case {
            // DATABASE_URL wins over NEON_TARGET_URL, even when it is wrong.
            assert_eq!(out.code, 3, "{vars:?}: {out:?}");
        } else {
            assert_eq!(out.code, 0, "{vars:?}: {out:?}");
            assert!(out.stdout.contains(&expect), "{vars:?}: {}", out.stdout);
        }
    }
}

#[test]
fn a_wrong_password_is_exit_3_and_never_echoed() {
    let server = mantis_testkit::PrivateServer::start("right-horse-battery");
    let url = |pw: &str| {
        format!(
            "postgresql://postgres:{pw}@127.0.0.1:{}/postgres?sslmode=disable",
            server.port
        )
    };
    let out = run_url(&url("hunter2"), &["status"]).expect_code(3);
    assert!(
        out.stderr
            .contains("authentication failed for postgresql://postgres:****@127.0.0.1"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("hunter2") && !out.stdout.contains("hunter2"));
    let ok = run_url(&url("right-horse-battery"), &["status"]).expect_code(0);
    assert!(!ok.stdout.contains("right-horse") && !ok.stderr.contains("right-horse"));
    let via_env = run_env(
        &[("PGPASSWORD", "right-horse-battery")],
        &["--database-url", &url("").replace(":@", "@"), "status"],
    );
    assert_eq!(
        via_env.code, 0,
        "PGPASSWORD fills the password the URL leaves out: {via_env:?}"
    );
}
