//! sslmode semantics against real servers of the test's own, with and without
//! TLS (a self-signed certificate whose name is not 127.0.0.1), whatever
//! server and authentication the rest of the suite runs on.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use mantis_migrate::{ignore_events, ConnectError, ConnectOptions, Session, SslMode};
use mantis_testkit::{PrivateServer, CERTIFICATE_NAME};

async fn connect(options: &ConnectOptions) -> Result<Session, ConnectError> {
    Session::connect(options, ignore_events()).await
}

async fn uses_tls(session: &Session) -> bool {
    session
        .client()
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

const PASSWORD: &str = "tls-test-horse";

fn tcp(server: &PrivateServer, mode: SslMode) -> ConnectOptions {
    let mut o =
        ConnectOptions::resolve_with(Some(&server.url(PASSWORD, mode.as_str())), |_| None).unwrap();
    o.sslrootcert = None;
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sslmode_does_what_libpq_does() {
    let server = PrivateServer::start_tls(PASSWORD);
    let plain = connect(&tcp(&server, SslMode::Disable)).await.unwrap();
    assert!(!uses_tls(&plain).await, "disable must not encrypt");

    for mode in [SslMode::Prefer, SslMode::Require] {
        let s = connect(&tcp(&server, mode))
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert!(
            uses_tls(&s).await,
            "{mode:?} must encrypt when the server offers TLS"
        );
    }

    // verify-full against the system store: a self-signed certificate is refused.
    let err = connect(&tcp(&server, SslMode::VerifyFull))
        .await
        .err()
        .expect("self-signed must be refused");
    assert!(matches!(err, ConnectError::Tls { .. }), "{err}");
    assert!(err.to_string().contains("TLS with postgresql://"), "{err}");
    assert!(!err.to_string().contains(PASSWORD), "{err}");

    // Trusting the server's own certificate: the chain now verifies (verify-ca)
    // but the name 127.0.0.1 is not in it (verify-full still refuses).
    let cert = server.certificate().display().to_string();
    let mut ca = tcp(&server, SslMode::VerifyCa);
    ca.sslrootcert = Some(cert.clone());
    let s = connect(&ca)
        .await
        .unwrap_or_else(|e| panic!("verify-ca with the server's root: {e}"));
    assert!(uses_tls(&s).await);
    let mut full = tcp(&server, SslMode::VerifyFull);
    full.sslrootcert = Some(cert);
    let err = connect(&full)
        .await
        .err()
        .unwrap_or_else(|| panic!("127.0.0.1 is not {CERTIFICATE_NAME}"));
    assert!(matches!(err, ConnectError::Tls { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_is_refused_by_a_server_without_tls() {
    let server = PrivateServer::start(PASSWORD);
    let plain = connect(&tcp(&server, SslMode::Prefer)).await.unwrap();
    assert!(!uses_tls(&plain).await, "prefer falls back to plain");
    let err = connect(&tcp(&server, SslMode::Require))
        .await
        .err()
        .expect("require without server TLS must fail");
    assert!(matches!(err, ConnectError::Tls { .. }), "{err}");
}

#[tokio::test]
async fn an_unreadable_root_certificate_is_a_clear_tls_error() {
    let mut o = ConnectOptions::resolve_with(
        Some("postgresql://u@127.0.0.1/x?sslmode=verify-full"),
        |_| None,
    )
    .unwrap();
    o.sslrootcert = Some("/nonexistent/root.crt".into());
    let err = connect(&o).await.err().expect("must fail");
    assert!(
        err.to_string()
            .contains("cannot read sslrootcert /nonexistent/root.crt"),
        "{err}"
    );
}
