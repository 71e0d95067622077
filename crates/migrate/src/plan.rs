//! Deciding what to run: the pure part of the engine. Given a migration set and
//! the database's history, a [`Plan`] lists the steps of `up` or `down`, after
//! refusing every inconsistent state (changed files, missing versions,
//! out-of-order migrations, half-done runs in the other direction).

use crate::error::Error;
use crate::history::{DbState, Progress};
use crate::script::Script;
use crate::source::{Migration, MigrationSet};
use crate::types::{Direction, Target};

/// One migration to run in one direction.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    /// Version.
    pub version: u64,
    /// Name.
    pub name: String,
    /// Up or down.
    pub direction: Direction,
    /// The file to run.
    pub file: String,
    /// The SQL to run (the whole file).
    pub sql: String,
    /// One transaction for the file, or statement by statement.
    pub transactional: bool,
    /// Statements in the file.
    pub statements: usize,
    /// First statement to run (non-zero when resuming a half-done run).
    pub resume_at: usize,
    /// Checksum of the up file (what history records).
    pub checksum: String,
    /// This down step undoes a half-done up: its transaction also removes
    /// the progress marker.
    pub undoes_partial: bool,
    #[serde(skip)]
    pub(crate) script: Script,
}

/// What `up` or `down` will do.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    /// Up or down.
    pub direction: Direction,
    /// Version before the run.
    pub current: Option<u64>,
    /// Version after the run (`None` = nothing applied).
    pub target: Option<u64>,
    /// Steps, in the order they run.
    pub steps: Vec<Step>,
}

/// Computes the plan.
///
/// `target`: for up, the highest version to apply (default: all); for down, the
/// version to return to (default: the one before the current).
///
/// # Errors
/// Every refusal of [`Error`] that concerns history: checksum mismatch, missing
/// versions (unless `allow_missing`), out-of-order pending migrations, unknown
/// target, wrong direction, missing down files, a half-done run in the way.
pub fn plan(
    set: &MigrationSet,
    state: &DbState,
    direction: Direction,
    target: Target,
    allow_missing: bool,
) -> Result<Plan, Error> {
    check_checksums(set, state)?;
    check_missing(set, state, allow_missing)?;
    if direction == Direction::Down {
        if let Some(undo) = abandon_step(set, state)? {
            return plan_undo(set, state, target, undo);
        }
    }
    let resume = resumable(set, state, direction)?;
    match direction {
        Direction::Up => plan_up(set, state, target, resume),
        Direction::Down => plan_down(set, state, target, resume),
    }
}

fn check_checksums(set: &MigrationSet, state: &DbState) -> Result<(), Error> {
    for applied in &state.applied {
        let Some(m) = set.get(applied.version) else {
            continue;
        };
        let local = m.checksum().to_hex();
        if applied.checksum != local {
            return Err(Error::ChecksumMismatch {
                version: m.version,
                file: m.up.path.clone(),
                applied: applied.checksum.clone(),
                local,
            });
        }
    }
    Ok(())
}

fn check_missing(set: &MigrationSet, state: &DbState, allow_missing: bool) -> Result<(), Error> {
    let missing: Vec<String> = state
        .applied
        .iter()
        .filter(|a| set.get(a.version).is_none())
        .map(|a| format!("{:03}_{}", a.version, a.name))
        .collect();
    if missing.is_empty() || allow_missing {
        return Ok(());
    }
    Err(Error::MissingFromSet {
        origin: set.origin().to_string(),
        versions: missing,
    })
}

/// The half-done run to resume, if it goes our way; an error if it is in the way.
fn resumable<'a>(
    set: &MigrationSet,
    state: &'a DbState,
    direction: Direction,
) -> Result<Option<&'a Progress>, Error> {
    let Some(progress) = &state.progress else {
        return Ok(None);
    };
    let partial = |hint: String| partial_error(progress, hint);
    if progress.direction != direction {
        return Err(partial(format!(
            "finish it first with `mantis {}`",
            progress.direction
        )));
    }
    let script = set
        .get(progress.version)
        .and_then(|m| script_for(m, direction));
    let Some(script) = script else {
        return Err(partial(
            "its file is no longer in the migration set; restore it".into(),
        ));
    };
    let local = script.checksum.to_hex();
    if local != progress.checksum || script.statements.len() != progress.statements_total {
        return Err(partial(format!(
            "{} changed since the interrupted run; restore it as it was (statements 1..{} already ran from it)",
            script.path, progress.statements_done
        )));
    }
    Ok(Some(progress))
}

/// The refusal naming a half-done run, with what to do about it.
fn partial_error(progress: &Progress, hint: String) -> Error {
    Error::Partial {
        version: progress.version,
        name: progress.name.clone(),
        direction: progress.direction,
        done: progress.statements_done,
        total: progress.statements_total,
        last_error: progress.last_error.clone(),
        hint,
    }
}

fn script_for(m: &Migration, direction: Direction) -> Option<&Script> {
    match direction {
        Direction::Up => Some(&m.up),
        Direction::Down => m.down.as_ref(),
    }
}

fn plan_up(
    set: &MigrationSet,
    state: &DbState,
    target: Target,
    resume: Option<&Progress>,
) -> Result<Plan, Error> {
    let current = state.current();
    let target = match target {
        Target::Default => None,
        Target::Version(t) => Some(t),
        // Up to nothing: the version 0 no set has.
        Target::Nothing => Some(0),
    };
    if let Some(t) = target {
        known_version(set, t)?;
        if current.is_some_and(|c| t < c) {
            return Err(Error::WrongDirection {
                direction: Direction::Up,
                target: t,
                current,
            });
        }
    }
    let pending: Vec<&Migration> = set
        .migrations()
        .iter()
        .filter(|m| state.applied(m.version).is_none())
        .collect();
    if let (Some(first), Some(c)) = (pending.first(), current) {
        if first.version < c {
            return Err(Error::OutOfOrder {
                pending: first.version,
                applied: c,
            });
        }
    }
    let steps: Vec<Step> = pending
        .into_iter()
        .filter(|m| target.is_none_or(|t| m.version <= t))
        .map(|m| step(m, &m.up, Direction::Up, resume))
        .collect();
    let target = steps.last().map(|s| s.version).or(current);
    Ok(Plan {
        direction: Direction::Up,
        current,
        target,
        steps,
    })
}

fn plan_down(
    set: &MigrationSet,
    state: &DbState,
    target: Target,
    resume: Option<&Progress>,
) -> Result<Plan, Error> {
    let current = state.current();
    let target = match target {
        Target::Nothing => 0,
        Target::Version(t) => {
            if state.applied(t).is_none() {
                known_version(set, t)?;
                return Err(Error::WrongDirection {
                    direction: Direction::Down,
                    target: t,
                    current,
                });
            }
            t
        }
        Target::Default => {
            let before_last = state.applied.iter().rev().nth(1);
            before_last.map_or(0, |a| a.version)
        }
    };
    let to_revert: Vec<u64> = state
        .applied
        .iter()
        .rev()
        .map(|a| a.version)
        .filter(|v| *v > target)
        .collect();
    let mut lacking = Vec::new();
    let mut steps = Vec::new();
    for version in to_revert {
        match set
            .get(version)
            .and_then(|m| m.down.as_ref().map(|d| (m, d)))
        {
            Some((m, down)) => steps.push(step(m, down, Direction::Down, resume)),
            None => lacking.push(describe(set, state, version)),
        }
    }
    if !lacking.is_empty() {
        return Err(Error::NoDownScript { versions: lacking });
    }
    let target = (target > 0).then_some(target);
    Ok(Plan {
        direction: Direction::Down,
        current,
        target,
        steps,
    })
}

fn describe(set: &MigrationSet, state: &DbState, version: u64) -> String {
    match set.get(version) {
        Some(m) => format!(
            "{:03}_{} (expected {:03}_{}.down.sql)",
            m.version, m.name, m.version, m.name
        ),
        None => {
            let name = state.applied(version).map_or("?", |a| a.name.as_str());
            format!("{version:03}_{name} (not in the migration set)")
        }
    }
}

fn known_version(set: &MigrationSet, version: u64) -> Result<(), Error> {
    match set.get(version) {
        Some(_) => Ok(()),
        None => Err(Error::UnknownVersion {
            version,
            origin: set.origin().to_string(),
        }),
    }
}

/// `down` while an up is half-done: first undo it, then (with `--to`) revert
/// further. Without `--to`, the half-done migration is the one reverted.
fn plan_undo(
    set: &MigrationSet,
    state: &DbState,
    target: Target,
    undo: Step,
) -> Result<Plan, Error> {
    let mut plan = match target {
        Target::Default => Plan {
            direction: Direction::Down,
            current: state.current(),
            target: state.current(),
            steps: Vec::new(),
        },
        further => plan_down(set, state, further, None)?,
    };
    plan.steps.insert(0, undo);
    Ok(plan)
}

/// The step that undoes a half-done up (its down file, from the start), or
/// None when no up is half-done. The down file must be transactional, so the
/// undo and the removal of the progress marker commit together.
fn abandon_step(set: &MigrationSet, state: &DbState) -> Result<Option<Step>, Error> {
    let Some(progress) = state
        .progress
        .as_ref()
        .filter(|p| p.direction == Direction::Up)
    else {
        return Ok(None);
    };
    let partial = |hint: &str| partial_error(progress, hint.to_string());
    let Some(m) = set.get(progress.version) else {
        return Err(partial(
            "its file is no longer in the migration set; restore it",
        ));
    };
    let Some(down) = &m.down else {
        return Err(partial(
            "it has no down file to undo it with; finish it first with `mantis up`",
        ));
    };
    if !down.options.transactional {
        return Err(partial("its down file runs without a transaction, so it cannot be undone atomically; resume with `mantis up`"));
    }
    Ok(Some(Step {
        undoes_partial: true,
        ..step(m, down, Direction::Down, None)
    }))
}

fn step(m: &Migration, script: &Script, direction: Direction, resume: Option<&Progress>) -> Step {
    let resume_at = resume
        .filter(|p| p.version == m.version)
        .map_or(0, |p| p.statements_done);
    Step {
        version: m.version,
        name: m.name.clone(),
        direction,
        file: script.path.clone(),
        sql: script.sql.clone(),
        transactional: script.options.transactional,
        statements: script.statements.len(),
        resume_at,
        checksum: m.checksum().to_hex(),
        undoes_partial: false,
        script: script.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::AppliedMigration;

    fn set() -> MigrationSet {
        MigrationSet::from_files(
            "t",
            [
                ("001_a.up.sql", "select 1;"),
                ("001_a.down.sql", "select -1;"),
                ("002_b.up.sql", "select 2;"),
                ("002_b.down.sql", "select -2;"),
                ("003_c.up.sql", "select 3;"),
            ],
        )
        .unwrap()
    }

    fn applied(set: &MigrationSet, versions: &[u64]) -> DbState {
        let applied = versions
            .iter()
            .map(|v| AppliedMigration {
                version: *v,
                name: set.get(*v).map_or("gone".into(), |m| m.name.clone()),
                checksum: set
                    .get(*v)
                    .map_or("0".repeat(64), |m| m.checksum().to_hex()),
                applied_at: chrono::Utc::now(),
                applied_by: "t".into(),
                duration_ms: 1,
                tool_version: "t".into(),
                mode: "transaction".into(),
                backup: None,
            })
            .collect();
        DbState {
            applied,
            progress: None,
        }
    }

    fn versions(plan: &Plan) -> Vec<u64> {
        plan.steps.iter().map(|s| s.version).collect()
    }

    #[test]
    fn up_applies_pending_up_to_target() {
        let s = set();
        let p = plan(
            &s,
            &applied(&s, &[1]),
            Direction::Up,
            Target::Default,
            false,
        )
        .unwrap();
        assert_eq!(versions(&p), [2, 3]);
        assert_eq!((p.current, p.target), (Some(1), Some(3)));
        let p = plan(
            &s,
            &applied(&s, &[1]),
            Direction::Up,
            Target::Version(2),
            false,
        )
        .unwrap();
        assert_eq!(versions(&p), [2]);
    }

    #[test]
    fn up_when_current_is_empty() {
        let s = set();
        let p = plan(
            &s,
            &applied(&s, &[1, 2, 3]),
            Direction::Up,
            Target::Default,
            false,
        )
        .unwrap();
        assert!(p.steps.is_empty());
        assert_eq!(p.target, Some(3));
    }

    #[test]
    fn down_reverts_one_by_default_and_all_with_zero() {
        let s = set();
        let state = applied(&s, &[1, 2]);
        let p = plan(&s, &state, Direction::Down, Target::Default, false).unwrap();
        assert_eq!((versions(&p), p.target), (vec![2], Some(1)));
        let p = plan(&s, &state, Direction::Down, Target::Nothing, false).unwrap();
        assert_eq!((versions(&p), p.target), (vec![2, 1], None));
    }

    #[test]
    fn down_refuses_before_running_anything_when_a_down_file_is_missing() {
        let s = set();
        let err = plan(
            &s,
            &applied(&s, &[1, 2, 3]),
            Direction::Down,
            Target::Nothing,
            false,
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::NoDownScript { versions } if versions.len() == 1),
            "{err}"
        );
        assert!(err.to_string().contains("003_c.down.sql"), "{err}");
    }

    #[test]
    fn changed_files_are_refused_naming_both_checksums() {
        let s = set();
        let mut state = applied(&s, &[1]);
        state.applied[0].checksum = "f".repeat(64);
        let err = plan(&s, &state, Direction::Up, Target::Default, false).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("t/001_a.up.sql") && text.contains(&"f".repeat(64)),
            "{text}"
        );
        assert!(
            text.contains(&s.get(1).unwrap().checksum().to_hex()),
            "{text}"
        );
    }

    #[test]
    fn missing_versions_are_refused_unless_allowed() {
        let s = set();
        let state = applied(&s, &[1, 2, 3, 9]);
        let err = plan(&s, &state, Direction::Up, Target::Default, false).unwrap_err();
        assert!(err.to_string().contains("009_gone"), "{err}");
        assert!(plan(&s, &state, Direction::Up, Target::Default, true).is_ok());
    }

    #[test]
    fn out_of_order_pending_versions_are_refused() {
        let s = set();
        let err = plan(
            &s,
            &applied(&s, &[1, 3]),
            Direction::Up,
            Target::Default,
            false,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::OutOfOrder {
                pending: 2,
                applied: 3
            }
        ));
    }

    #[test]
    fn targets_must_exist_and_point_the_right_way() {
        let s = set();
        let state = applied(&s, &[1, 2]);
        assert!(matches!(
            plan(&s, &state, Direction::Up, Target::Version(7), false),
            Err(Error::UnknownVersion { .. })
        ));
        assert!(matches!(
            plan(&s, &state, Direction::Up, Target::Version(1), false),
            Err(Error::WrongDirection { .. })
        ));
        assert!(matches!(
            plan(&s, &state, Direction::Down, Target::Version(3), false),
            Err(Error::WrongDirection { .. })
        ));
    }

    #[test]
    fn half_done_runs_resume_in_their_direction_and_block_the_other() {
        let s = set();
        let mut state = applied(&s, &[1]);
        let m = s.get(2).unwrap();
        state.progress = Some(Progress {
            version: 2,
            name: "b".into(),
            checksum: m.checksum().to_hex(),
            direction: Direction::Up,
            statements_total: 1,
            statements_done: 1,
            started_at: chrono::Utc::now(),
            started_by: "t".into(),
            last_error: Some("boom".into()),
        });
        let p = plan(&s, &state, Direction::Up, Target::Default, false).unwrap();
        assert_eq!(p.steps[0].resume_at, 1);
        assert_eq!(p.steps[1].resume_at, 0);
        // Down undoes the half-done up with its down file, and only that
        // without --to.
        let undo = plan(&s, &state, Direction::Down, Target::Default, false).unwrap();
        assert_eq!(undo.steps.len(), 1);
        assert!(undo.steps[0].undoes_partial && undo.steps[0].version == 2);
        assert_eq!(undo.target, Some(1));
        let further = plan(&s, &state, Direction::Down, Target::Nothing, false).unwrap();
        let versions: Vec<u64> = further.steps.iter().map(|s| s.version).collect();
        assert_eq!(versions, [2, 1]);
        // A half-done down blocks an up.
        let down_checksum = s.get(2).unwrap().down.as_ref().unwrap().checksum.to_hex();
        let progress = state.progress.as_mut().unwrap();
        progress.direction = Direction::Down;
        progress.checksum = down_checksum;
        let err = plan(&s, &state, Direction::Up, Target::Default, false).unwrap_err();
        assert!(
            err.to_string()
                .contains("finish it first with `mantis down`"),
            "{err}"
        );
        let progress = state.progress.as_mut().unwrap();
        progress.direction = Direction::Up;
        progress.checksum = s.get(2).unwrap().checksum().to_hex();
        state.progress.as_mut().unwrap().checksum = "0".repeat(64);
        let err = plan(&s, &state, Direction::Up, Target::Default, false).unwrap_err();
        assert!(
            err.to_string()
                .contains("changed since the interrupted run"),
            "{err}"
        );
    }
}
