//! `status`: every migration of the set and of the history, side by side.

use crate::history::{AppliedMigration, DbState, Progress};
use crate::source::MigrationSet;
use crate::types::Direction;

/// Where one migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationState {
    /// Applied, file unchanged.
    Applied,
    /// In the set, not applied.
    Pending,
    /// A no-transaction run stopped half-way.
    Partial,
    /// Applied, but the file has changed since.
    Changed,
    /// Applied, but not in the set.
    Missing,
}

/// One line of the status report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusEntry {
    /// Version.
    pub version: u64,
    /// Name (from the file, else from history).
    pub name: String,
    /// Where it stands.
    pub state: MigrationState,
    /// The up file, when in the set.
    pub file: Option<String>,
    /// Whether a down file exists.
    pub has_down: bool,
    /// Whether a verify file exists.
    pub has_verify: bool,
    /// Checksum of the local up file.
    pub local_checksum: Option<String>,
    /// The history row, when applied.
    pub applied: Option<AppliedMigration>,
}

/// The whole picture.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusReport {
    /// Masked connection string.
    pub target: String,
    /// Where the migration set came from.
    pub origin: String,
    /// Newest applied version.
    pub current: Option<u64>,
    /// Newest version in the set.
    pub latest: Option<u64>,
    /// Migrations still to apply: the pending ones and a half-done `up`.
    pub pending: usize,
    /// A half-done no-transaction run.
    pub partial: Option<Progress>,
    /// Every migration, by version.
    pub entries: Vec<StatusEntry>,
}

impl StatusReport {
    /// True when nothing is pending, changed, missing or half-done.
    pub fn is_clean(&self) -> bool {
        self.entries
            .iter()
            .all(|e| e.state == MigrationState::Applied)
    }
}

/// Builds the report from the set and the history.
pub fn status(set: &MigrationSet, state: &DbState, target: &str) -> StatusReport {
    let mut entries: Vec<StatusEntry> = set
        .migrations()
        .iter()
        .map(|m| {
            let applied = state.applied(m.version).cloned();
            let local = m.checksum().to_hex();
            let partial = state
                .progress
                .as_ref()
                .is_some_and(|p| p.version == m.version);
            let state = match &applied {
                _ if partial => MigrationState::Partial,
                None => MigrationState::Pending,
                Some(a) if a.checksum != local => MigrationState::Changed,
                Some(_) => MigrationState::Applied,
            };
            StatusEntry {
                version: m.version,
                name: m.name.clone(),
                state,
                file: Some(m.up.path.clone()),
                has_down: m.down.is_some(),
                has_verify: m.verify.is_some(),
                local_checksum: Some(local),
                applied,
            }
        })
        .collect();
    entries.extend(
        state
            .applied
            .iter()
            .filter(|a| set.get(a.version).is_none())
            .map(|a| StatusEntry {
                version: a.version,
                name: a.name.clone(),
                state: MigrationState::Missing,
                file: None,
                has_down: false,
                has_verify: false,
                local_checksum: None,
                applied: Some(a.clone()),
            }),
    );
    entries.sort_by_key(|e| e.version);
    StatusReport {
        target: target.to_string(),
        origin: set.origin().to_string(),
        current: state.current(),
        latest: set.latest(),
        pending: entries
            .iter()
            .filter(|e| to_apply(e.state, state.progress.as_ref()))
            .count(),
        partial: state.progress.clone(),
        entries,
    }
}

/// Whether `up` still has to apply a migration in this state: a pending one,
/// or one whose `up` stopped half-way (a half-done `down` is still applied).
fn to_apply(state: MigrationState, progress: Option<&Progress>) -> bool {
    match state {
        MigrationState::Pending => true,
        MigrationState::Partial => progress.is_some_and(|p| p.direction == Direction::Up),
        _ => false,
    }
}
