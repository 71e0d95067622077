//! Ctrl-C and SIGTERM during a command that changes the schema or the data:
//! the run stops, and says where to look (the process used to vanish with
//! the shell's 130 or 143 and not a word).

use std::future::Future;

use tokio::signal::unix::{signal, SignalKind};

/// How a command ended: by itself, or by a signal (the exit code for it).
pub enum Ended<T> {
    /// It finished (well or not).
    Finished(T),
    /// A signal stopped it: 130 for SIGINT, 143 for SIGTERM.
    Signalled {
        /// The signal's name.
        name: &'static str,
        /// The exit code, 128 + the signal's number, as shells report it.
        code: u8,
    },
}

/// Runs `command` until it ends or SIGINT / SIGTERM arrives.
pub async fn until_signalled<T>(command: impl Future<Output = T>) -> Ended<T> {
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return Ended::Finished(command.await);
    };
    tokio::select! {
        done = command => Ended::Finished(done),
        _ = tokio::signal::ctrl_c() => Ended::Signalled { name: "SIGINT", code: 130 },
        _ = term.recv() => Ended::Signalled { name: "SIGTERM", code: 143 },
    }
}

/// What is said when a signal stopped a command.
pub fn message(name: &str) -> String {
    format!(
        "mantis: interrupted by {name}; the statement in progress was abandoned (the server rolls its \
         transaction back). `mantis status` shows where the run stopped: a transactional migration was \
         rolled back whole, a no-transaction one left a marker and the next `mantis up` resumes it"
    )
}
