//! sslmode semantics against the real server. The local Debian cluster serves a
//! self-signed "snakeoil" certificate whose name is the machine's host name.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use mantis_migrate::{ignore_events, ConnectError, ConnectOptions, Session, SslMode};
use mantis_testkit::TestDb;

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

fn tcp(db: &TestDb, mode: SslMode) -> ConnectOptions {
    let mut o = db.options();
    if o.is_socket() {
        o.host = "127.0.0.1".into();
    }
    o.sslmode = mode;
    o.sslrootcert = None;
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sslmode_does_what_libpq_does() {
    let db = TestDb::empty("tls_modes").await;
    let plain = connect(&tcp(&db, SslMode::Disable)).await.unwrap();
    assert!(!uses_tls(&plain).await, "disable must not encrypt");
    let ssl_on: String = plain
        .client()
        .query_one("SHOW ssl", &[])
        .await
        .unwrap()
        .get(0);
    if ssl_on != "on" {
        let err = connect(&tcp(&db, SslMode::Require))
            .await
            .err()
            .expect("require without server TLS must fail");
        assert!(matches!(err, ConnectError::Tls { .. }), "{err}");
        return;
    }
    let cert_file: String = plain
        .client()
        .query_one("SHOW ssl_cert_file", &[])
        .await
        .unwrap()
        .get(0);

    for mode in [SslMode::Prefer, SslMode::Require] {
        let s = connect(&tcp(&db, mode))
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert!(
            uses_tls(&s).await,
            "{mode:?} must encrypt when the server offers TLS"
        );
    }

    // verify-full against the system store: a self-signed certificate is refused.
    let err = connect(&tcp(&db, SslMode::VerifyFull))
        .await
        .err()
        .expect("self-signed must be refused");
    assert!(matches!(err, ConnectError::Tls { .. }), "{err}");
    assert!(err.to_string().contains("TLS with postgresql://"), "{err}");

    // Trusting the server's own certificate: the chain now verifies (verify-ca)
    // but the name 127.0.0.1 is not in it (verify-full still refuses).
    let mut ca = tcp(&db, SslMode::VerifyCa);
    ca.sslrootcert = Some(cert_file.clone());
    let s = connect(&ca)
        .await
        .unwrap_or_else(|e| panic!("verify-ca with the server's root: {e}"));
    assert!(uses_tls(&s).await);
    let mut full = tcp(&db, SslMode::VerifyFull);
    full.sslrootcert = Some(cert_file);
    let err = connect(&full)
        .await
        .err()
        .expect("127.0.0.1 is not the certificate's name");
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
