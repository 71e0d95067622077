//! The types the engine's modules share: defined here, apart from the
//! behaviour that produces them, so that the modules depend on this one and
//! not on each other (`error` and `event` name a lock holder, a direction, a
//! conflict without depending on the code that finds them).

use std::fmt;

use sha2::{Digest, Sha256};

/// Up (apply) or down (revert).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Apply.
    Up,
    /// Revert.
    Down,
}

impl Direction {
    /// `up` or `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// How far `up` or `down` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    /// The direction's own: up applies every pending migration; down
    /// reverts the newest applied one (or undoes a half-done up).
    #[default]
    Default,
    /// Up to, or back to, this version (at least 1).
    Version(u64),
    /// Down: revert every migration (nothing applied afterwards).
    Nothing,
}

impl Target {
    /// From `--to V`: none is the direction's default, 0 is nothing.
    pub fn from_to(to: Option<u64>) -> Target {
        match to {
            None => Target::Default,
            Some(0) => Target::Nothing,
            Some(version) => Target::Version(version),
        }
    }
}

impl std::str::FromStr for Direction {
    type Err = String;

    /// `up` or `down`; anything else is named in the error.
    fn from_str(text: &str) -> Result<Direction, String> {
        match text {
            "up" => Ok(Direction::Up),
            "down" => Ok(Direction::Down),
            other => Err(format!("direction {other:?}, neither up nor down")),
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SHA-256 of a migration's up file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum([u8; 32]);

impl Checksum {
    /// Checksum of the given bytes.
    pub fn of(bytes: &[u8]) -> Self {
        Checksum(Sha256::digest(bytes).into())
    }

    /// Lower-case hex form, as stored in the history table.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The session holding the lock, as `pg_stat_activity` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockHolder {
    /// Backend pid.
    pub pid: i32,
    /// Its application_name.
    pub application: String,
    /// Its role.
    pub user: String,
    /// Client address, or `local`.
    pub client: String,
    /// How long its current transaction (or session) has run, in ms.
    pub running_ms: i64,
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {} ({} as {} from {}, running {:.1}s)",
            self.pid,
            application(&self.application),
            self.user,
            self.client,
            self.running_ms as f64 / 1000.0
        )
    }
}

/// An application_name as shown to people: `?` when the session set none.
pub(crate) fn application(name: &str) -> &str {
    if name.is_empty() {
        "?"
    } else {
        name
    }
}

/// A session holding (or queued ahead for) a lock the runner waits for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Blocker {
    /// Backend pid.
    pub pid: i32,
    /// Its application_name.
    pub application: String,
    /// Its role.
    pub user: String,
    /// `active`, `idle in transaction`, …
    pub state: String,
    /// How long its transaction has been open, in ms.
    pub transaction_ms: i64,
    /// Its current (or last) query, shortened.
    pub query: String,
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {} ({} as {}, {} for {:.1}s: {})",
            self.pid,
            application(&self.application),
            self.user,
            self.state,
            self.transaction_ms as f64 / 1000.0,
            self.query
        )
    }
}

/// Which walk a batch belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchPass {
    /// Ranges of pages (`order=physical`).
    Pages,
    /// Ranges of keys.
    Keys,
}

/// One object of a migration's footprint that already exists.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Conflict {
    /// What exists, and how it differs.
    pub found: String,
    /// How to proceed.
    pub resolve: String,
}
