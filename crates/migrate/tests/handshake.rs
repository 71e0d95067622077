//! How a failed connect is sorted when no SQLSTATE comes back: a listener of
//! the test's own answers the client's first messages the way a server would
//! (asking for a password, refusing TLS, or saying nothing), and the error
//! must be the right kind, with the right exit code behind it.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use std::time::Duration;

use mantis_migrate::{ignore_events, ConnectError, ConnectOptions, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The PostgreSQL protocol's SSLRequest code.
const SSL_REQUEST: i32 = 80_877_103;

/// How the listener answers.
#[derive(Clone, Copy)]
enum Answer {
    /// `N` to an SSLRequest (no TLS here), then a request for a clear-text password.
    AskPassword,
    /// `N` to an SSLRequest, then nothing more.
    RefuseTls,
    /// Nothing at all.
    Silence,
}

/// Reads one length-prefixed startup-phase message; returns its first int32.
async fn read_message(stream: &mut TcpStream) -> Option<i32> {
    let length = stream.read_i32().await.ok()?;
    let mut body = vec![0; usize::try_from(length).ok()?.checked_sub(4)?];
    stream.read_exact(&mut body).await.ok()?;
    Some(i32::from_be_bytes(body.get(..4)?.try_into().ok()?))
}

async fn serve(mut stream: TcpStream, answer: Answer) {
    if matches!(answer, Answer::Silence) {
        tokio::time::sleep(Duration::from_secs(30)).await;
        return;
    }
    let mut code = read_message(&mut stream).await;
    if code == Some(SSL_REQUEST) {
        stream.write_all(b"N").await.unwrap();
        if matches!(answer, Answer::RefuseTls) {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
        code = read_message(&mut stream).await;
    }
    assert!(code.is_some(), "the client sent no startup message");
    // AuthenticationCleartextPassword: 'R', length 8, code 3.
    let mut ask = vec![b'R'];
    ask.extend_from_slice(&8_i32.to_be_bytes());
    ask.extend_from_slice(&3_i32.to_be_bytes());
    stream.write_all(&ask).await.unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
}

/// Connects to a listener answering `answer`, with `params` in the URL.
async fn connect_to(answer: Answer, params: &str) -> ConnectError {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, answer));
        }
    });
    let url = format!("postgresql://someone@127.0.0.1:{port}/db?{params}");
    let options = ConnectOptions::resolve_with(Some(&url), |_| None).unwrap();
    Session::connect(&options, ignore_events())
        .await
        .err()
        .expect("the listener is no server: connecting must fail")
}

#[tokio::test]
async fn a_server_asking_for_a_password_none_was_given_for_is_an_authentication_error() {
    let err = connect_to(Answer::AskPassword, "sslmode=disable").await;
    assert!(
        matches!(err, ConnectError::Authentication { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("asks for a password"), "{err}");
}

#[tokio::test]
async fn a_server_without_tls_when_tls_is_required_is_a_tls_error() {
    let err = connect_to(Answer::RefuseTls, "sslmode=require").await;
    assert!(matches!(err, ConnectError::Tls { .. }), "{err:?}");
}

/// The whole startup is bounded by connect_timeout, as in libpq (the
/// driver's own timeout covers reaching the socket only): a listener that
/// accepts and never answers is given up on, not waited for.
#[tokio::test]
async fn a_server_that_never_answers_is_unreachable_after_connect_timeout() {
    let started = std::time::Instant::now();
    let err = connect_to(Answer::Silence, "sslmode=disable&connect_timeout=2").await;
    assert!(matches!(err, ConnectError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("connect_timeout"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "gave up after {:?}, not after the 2 s of connect_timeout",
        started.elapsed()
    );
}
