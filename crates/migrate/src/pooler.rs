//! Knowing a transaction-mode connection pooler before acting.
//!
//! Behind PgBouncer's `pool_mode = transaction` (and Neon's `-pooler`
//! endpoints, which are PgBouncer), each transaction may run on another
//! server connection. What needs one server session for its whole run (a
//! session-level advisory lock, session settings such as `lock_timeout`, a
//! no-transaction migration's statements) is then silently split across
//! server connections, and a session lock taken through the pooler stays
//! with a server connection that other clients will use. Commands that need
//! a session therefore ask [`require_session`] first and refuse before doing
//! anything.
//!
//! The evidence, cheapest first: a Neon host name with `-pooler`; then the
//! server process ids seen by this connection and by a second one opened
//! beside it, over a few rounds in which each pins its server connection in
//! a transaction while the other asks again. Two client connections served
//! by one server process, or one connection answered by two, is a pooler
//! handing out server connections per transaction: PgBouncer reuses the
//! server connection released last (LIFO), so the second connection's
//! first statement runs on the one this connection has just released. A
//! session-mode pool, or the server itself, gives each connection its own
//! process for its whole life. The probe cannot prove the absence of a
//! transaction pooler (one that happened to keep each connection on its own
//! server connection throughout looks like a session); the runner's check
//! that the lock's holder never changes (exit 7) stays behind it.

use crate::connect::ConnectOptions;
use crate::error::Error;
use crate::session::Session;

/// Why a connection is known to go through a transaction-mode pooler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionPooler {
    /// What showed it, in words.
    pub evidence: String,
    /// Which connection to use instead, in words (no password).
    pub instead: String,
}

/// Refuses (with [`Error::TransactionPooler`]) when `session` goes through a
/// transaction-mode pooler; `command` names what needs the session.
///
/// # Errors
/// [`Error::TransactionPooler`]; a connection or query error of the probe.
pub async fn require_session(session: &Session, command: &str) -> Result<(), Error> {
    match detect(session).await? {
        None => Ok(()),
        Some(pooler) => Err(refusal(command, session.options(), pooler)),
    }
}

/// Refuses, before connecting, a host known by its name to be a
/// transaction-mode pooler (Neon's `-pooler` endpoints).
///
/// # Errors
/// [`Error::TransactionPooler`].
pub fn require_session_by_name(options: &ConnectOptions, command: &str) -> Result<(), Error> {
    match by_name(options) {
        None => Ok(()),
        Some(pooler) => Err(refusal(command, options, pooler)),
    }
}

fn refusal(command: &str, options: &ConnectOptions, pooler: TransactionPooler) -> Error {
    Error::TransactionPooler {
        command: command.to_string(),
        target: options.masked(),
        evidence: pooler.evidence,
        instead: pooler.instead,
    }
}

/// The pooler a host name shows: a Neon pooled endpoint, whose direct
/// endpoint is the same name without `-pooler`.
pub fn by_name(options: &ConnectOptions) -> Option<TransactionPooler> {
    let direct = neon_direct_host(&options.host)?;
    let mut direct_options = options.clone();
    direct_options.host = direct;
    Some(TransactionPooler {
        evidence: format!("{} is a Neon pooled endpoint (-pooler)", options.host),
        instead: format!(
            "the same endpoint without -pooler: {}",
            direct_options.masked()
        ),
    })
}

/// The transaction-mode pooler `session` goes through, if it shows one.
///
/// # Errors
/// A connection or query error of the probe.
pub async fn detect(session: &Session) -> Result<Option<TransactionPooler>, Error> {
    if let Some(pooler) = by_name(session.options()) {
        return Ok(Some(pooler));
    }
    let evidence = match probe(session).await {
        Ok(evidence) => evidence,
        Err(Probe::Evidence(evidence)) => Some(evidence),
        Err(Probe::Failed(e)) => return Err(e),
    };
    Ok(evidence.map(|evidence| TransactionPooler {
        evidence,
        instead: "a direct connection to the server (not the pooler's port), or a \
                  session-mode pool"
            .to_string(),
    }))
}

/// How long the probe waits for any one answer. A server answers its
/// questions at once; only a pool with no free server connection makes them
/// wait, and the probe must not hold one of its few connections meanwhile
/// (five runners on a pool of four would each hold one and wait for a
/// second, and every application query through the pool with them).
pub const PROBE_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Why the probe stopped early.
enum Probe {
    /// What it saw is itself the answer.
    Evidence(String),
    /// A connection or query error.
    Failed(Error),
}

/// `step`, given at most [`PROBE_WAIT`]; a step still waiting then is a pool
/// with no free server connection (`what` names who was waiting).
async fn within<T>(
    what: &str,
    step: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Probe> {
    match tokio::time::timeout(PROBE_WAIT, step).await {
        Ok(result) => result.map_err(Probe::Failed),
        Err(_) => Err(Probe::Evidence(format!(
            "{what} waited over {} s for an answer a server gives at once: the connection goes through a \
             pool with no free server connection (a transaction-mode pooler lends one per transaction)",
            PROBE_WAIT.as_secs()
        ))),
    }
}

/// The probe with a second connection beside `session`, every wait bounded.
async fn probe(session: &Session) -> Result<Option<String>, Probe> {
    let sibling = within("a second connection", async {
        session.sibling("pooler check").await.map_err(Error::from)
    })
    .await?;
    // Dropping the sibling closes it: a question it still has queued in
    // the pool goes with it.
    pids_differ(session, &sibling).await
}

/// Rounds of the probe: each pins one connection's server connection in a
/// transaction while the other connection asks again, then the other way
/// round.
const ROUNDS: usize = 3;

/// What the server process ids of this connection (`a`) and of one opened
/// beside it (`b`) show, over [`ROUNDS`] rounds: a direct connection or a
/// session-mode pool keeps one process per connection throughout; a
/// transaction-mode pooler sooner or later gives one connection another
/// process, or gives `b` the process `a` just released (PgBouncer reuses the
/// server connection released last).
async fn pids_differ(a: &Session, b: &Session) -> Result<Option<String>, Probe> {
    let first = within("this connection", pid(a)).await?;
    let mut seen = Seen {
        first,
        beside: None,
    };
    for _ in 0..ROUNDS {
        let (beside, again) = while_pinned(b, a).await?;
        if let Some(found) = seen.evidence(again, beside) {
            return Ok(Some(found));
        }
        let (again, beside) = while_pinned(a, b).await?;
        if let Some(found) = seen.evidence(again, beside) {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The server processes seen so far by the two connections of the probe.
struct Seen {
    first: i32,
    beside: Option<i32>,
}

impl Seen {
    /// What `again` (this connection) and `beside` (the other one) show.
    fn evidence(&mut self, again: i32, beside: i32) -> Option<String> {
        let first = self.first;
        if beside == first {
            return Some(format!(
                "a second connection was served by the first one's server process (pid {first})"
            ));
        }
        if again != first {
            return Some(format!(
                "one connection was answered by two server processes (pid {first}, then {again})"
            ));
        }
        match self.beside.replace(beside) {
            Some(before) if before != beside => Some(format!(
                "one connection was answered by two server processes (pid {before}, then {beside})"
            )),
            _ => None,
        }
    }
}

/// Half a round: `pinned` holds a transaction open (and with it its server
/// connection) while `other` asks for its process, each step bounded by
/// [`PROBE_WAIT`]. Returns both pids, `pinned`'s first.
async fn while_pinned(pinned: &Session, other: &Session) -> Result<(i32, i32), Probe> {
    let control = |statement: &'static str| async move {
        pinned
            .client()
            .batch_execute(statement)
            .await
            .map_err(Error::db("probing for a connection pooler"))
    };
    within("this connection", control("BEGIN")).await?;
    let held = within("this connection", pid(pinned)).await?;
    let asked = within(
        "a second connection, while the first held a transaction,",
        pid(other),
    )
    .await;
    within("this connection", control("COMMIT")).await?;
    Ok((held, asked?))
}

async fn pid(session: &Session) -> Result<i32, Error> {
    session
        .backend_pid()
        .await
        .map_err(Error::db("reading the server process id"))
}

/// For a Neon pooled host (`ep-…-pooler.region.aws.neon.tech`), the direct
/// host: the same name without `-pooler` in its first label.
fn neon_direct_host(host: &str) -> Option<String> {
    let (first, rest) = host.split_once('.').unwrap_or((host, ""));
    let endpoint = first.strip_suffix("-pooler")?;
    if !rest.contains("neon.tech") && !rest.contains("neon.build") {
        return None;
    }
    Some(format!("{endpoint}.{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_neon_pooled_host_names_its_direct_host() {
        assert_eq!(
            neon_direct_host("ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech").as_deref(),
            Some("ep-cool-darkness-123456.us-east-2.aws.neon.tech")
        );
        assert_eq!(
            neon_direct_host("ep-cool-darkness-123456.us-east-2.aws.neon.tech"),
            None
        );
        assert_eq!(neon_direct_host("db-pooler.example.com"), None, "not Neon");
        assert_eq!(neon_direct_host("127.0.0.1"), None);
    }

    #[test]
    fn the_probe_tells_one_process_per_connection_from_a_pool() {
        let mut session = Seen {
            first: 10,
            beside: None,
        };
        assert_eq!(session.evidence(10, 11), None);
        assert_eq!(session.evidence(10, 11), None, "the same two processes");
        let mut lifo = Seen {
            first: 10,
            beside: None,
        };
        assert!(lifo
            .evidence(10, 10)
            .unwrap()
            .contains("first one's server process"));
        let mut moved = Seen {
            first: 10,
            beside: None,
        };
        assert!(moved.evidence(12, 11).unwrap().contains("pid 10, then 12"));
        let mut beside_moved = Seen {
            first: 10,
            beside: None,
        };
        assert_eq!(beside_moved.evidence(10, 11), None);
        assert!(beside_moved
            .evidence(10, 13)
            .unwrap()
            .contains("pid 11, then 13"));
    }
}
