//! The project's own scripts, run as a user runs them.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Run;
use mantis_testkit::PrivateServer;

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
        .join(name)
}

/// Runs `scripts/ensure-postgres` at a real terminal (a pty from `script`),
/// with `DATABASE_URL` naming a server that wants a password the URL lacks:
/// the probe must fail at once rather than ask, and the next candidate (this
/// machine's server, which the suite itself runs on) be used.
#[test]
fn ensure_postgres_never_prompts_for_a_password_at_a_terminal() {
    let server = PrivateServer::start("a-password-nobody-types");
    let wants_password = format!(
        "postgresql://postgres@127.0.0.1:{}/postgres?sslmode=disable",
        server.port
    );
    let mut command = Command::new("timeout");
    command
        .args(["120", "script", "-qefc"])
        .arg(script("ensure-postgres"))
        .arg("/dev/null")
        .env("DATABASE_URL", &wants_password)
        .env("PGPASSFILE", "/nonexistent");
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("PG") && k != "PGPASSFILE") {
        command.env_remove(key);
    }
    let out = Run::from(command.output().unwrap());
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("Password"), "{}", out.stdout);
    let url = out.stdout.lines().last().unwrap_or_default().trim();
    assert!(url.starts_with("postgresql://"), "{}", out.stdout);
    assert_ne!(
        url, wants_password,
        "the server that wants a password is passed over"
    );
}

/// `scripts/ensure-pgbouncer` prints a PgBouncer that runs, and only that;
/// a MANTIS_TEST_PGBOUNCER naming no program is passed over, not trusted.
#[test]
fn ensure_pgbouncer_prints_a_pgbouncer_that_runs() {
    let out = Run::from(
        Command::new(script("ensure-pgbouncer"))
            .env("MANTIS_TEST_PGBOUNCER", "/nonexistent/pgbouncer")
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 0, "{out:?}");
    let path = out.stdout.trim();
    assert_eq!(out.stdout.lines().count(), 1, "{out:?}");
    assert_ne!(path, "/nonexistent/pgbouncer");
    let version = Run::from(Command::new(path).arg("--version").output().unwrap());
    assert!(version.stdout.contains("PgBouncer"), "{version:?}");
}
