//! `deploy`: the seed's five manual steps as one workflow that cannot skip
//! one — preflight, backup, up, verify, view refresh, summary — and that
//! returns the database to where it started when up or verify fails.
//!
//! What happens is reported as [`DeployEvent`]s as it happens (the CLI
//! prints them and writes them to its log); the result is an [`Outcome`] or
//! a [`DeployError`] that says what was done about the failure.

use std::path::PathBuf;
use std::time::Duration;

use mantis_inventory::refresh::{self, Refreshed};
use mantis_migrate::backup::{self, BackupError, BackupFile, Tools};
use mantis_migrate::preflight::{self, Finding, PreflightOptions};
use mantis_migrate::verify::{CheckResult, VerifyOptions};
use mantis_migrate::{
    ConnectOptions, Direction, Error, Migrator, RunReport, Session, Target, VerifyRun,
};
use mantis_schema::summary::{self, Summary};

/// What to deploy, and how.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// Preflight and the plan only; change nothing.
    pub dry_run: bool,
    /// The backup file to write first; `None` skips the backup (the caller
    /// has one of its own).
    pub backup: Option<PathBuf>,
    /// A transaction open longer than this fails preflight.
    pub max_transaction_age: Duration,
    /// pg_dump and pg_restore.
    pub tools: Tools,
    /// Thresholds and severities of the verify checks.
    pub verify: VerifyOptions,
    /// Lint the files to run before anything changes; None: no lint.
    pub lint: Option<LintGate>,
}

/// How deploy lints the files it is about to run.
#[derive(Debug, Clone, Default)]
pub struct LintGate {
    /// Rule levels, accepted hazards, whether the runner sets lock_timeout.
    pub options: mantis_lint::Options,
    /// Go on although lint found errors (the caller's explicit choice,
    /// reported as [`DeployEvent::LintOverridden`]).
    pub allow_errors: bool,
}

/// The six steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployStep {
    /// Server, privileges, locks, long transactions, the plan.
    Preflight,
    /// pg_dump, verified.
    Backup,
    /// The pending migrations.
    Up,
    /// The checks of what was applied.
    Verify,
    /// The inventory views.
    Refresh,
    /// What the schema holds now.
    Summary,
}

impl DeployStep {
    /// How many steps there are.
    pub const COUNT: u8 = 6;

    /// 1-based position.
    pub fn number(self) -> u8 {
        match self {
            DeployStep::Preflight => 1,
            DeployStep::Backup => 2,
            DeployStep::Up => 3,
            DeployStep::Verify => 4,
            DeployStep::Refresh => 5,
            DeployStep::Summary => 6,
        }
    }

    /// Its name in the log.
    pub fn name(self) -> &'static str {
        match self {
            DeployStep::Preflight => "preflight",
            DeployStep::Backup => "backup",
            DeployStep::Up => "up",
            DeployStep::Verify => "verify",
            DeployStep::Refresh => "refresh views",
            DeployStep::Summary => "summary",
        }
    }
}

/// What a deploy is doing, as it happens.
#[derive(Debug)]
pub enum DeployEvent<'a> {
    /// A step begins.
    Step(DeployStep),
    /// One preflight check.
    Finding(&'a Finding),
    /// The schema matches what its history says (or why not).
    SchemaChecked(Result<(), &'a Error>),
    /// The files to run were linted (lock hazards weighed by the live tables).
    Linted(&'a mantis_lint::Report),
    /// Lint found errors and the caller chose to deploy anyway.
    LintOverridden {
        /// How many errors.
        errors: usize,
    },
    /// Nothing is pending.
    NothingToDo {
        /// The database's version.
        version: Option<u64>,
    },
    /// `dry_run`: stopping after the plan.
    DryRun,
    /// No backup was asked for.
    BackupSkipped,
    /// The backup is written and verified.
    BackedUp(&'a BackupFile),
    /// The migrations were applied.
    Applied(&'a RunReport),
    /// Another session applied them while this one waited for the lock.
    AppliedElsewhere {
        /// The database's version now.
        version: Option<u64>,
    },
    /// Up failed (the rollback follows).
    UpFailed(&'a Error),
    /// A check failed or warned.
    CheckFailed(&'a CheckResult),
    /// Every check passed.
    Verified,
    /// No migration of the set has a verify file: nothing to check.
    NoChecks,
    /// Going back to the starting version.
    RollingBack {
        /// The starting version.
        to: Option<u64>,
    },
    /// A half-done migration was undone with its down file.
    UndidPartial,
    /// Back at the starting version.
    RolledBack {
        /// The starting version.
        to: Option<u64>,
    },
    /// The rollback failed too.
    RollbackFailed {
        /// The starting version.
        to: Option<u64>,
        /// Why.
        error: &'a Error,
    },
    /// The migration set has no inventory views.
    NoViews,
    /// One view refreshed (or failed to).
    Refreshed(&'a Refreshed),
}

/// How a deploy ended, when it did not fail.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing was pending.
    UpToDate {
        /// The database's version.
        version: Option<u64>,
    },
    /// `dry_run`: the plan; nothing changed.
    Planned {
        /// The plan.
        plan: RunReport,
    },
    /// Another session applied the pending migrations while this one waited.
    AppliedElsewhere {
        /// What this run found (nothing to do) and the version.
        run: RunReport,
    },
    /// Backed up, applied, verified, refreshed.
    Deployed(Box<Deployed>),
}

/// What a deploy that changed the database did.
#[derive(Debug)]
pub struct Deployed {
    /// The backup taken first.
    pub backup: Option<BackupFile>,
    /// The migrations applied.
    pub run: RunReport,
    /// The checks that proved them (none when the set has no verify file).
    pub checked: Vec<VerifyRun>,
    /// The views refreshed (none when the set has no inventory views).
    pub refreshed: Option<Vec<Refreshed>>,
    /// What the schema holds now (when it is the MantisNXT schema).
    pub summary: Option<Summary>,
}

/// Why a deploy stopped, and what was done about it.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Preflight found a problem; nothing was changed.
    #[error("preflight failed ({}); nothing was changed", failed.join(", "))]
    Preflight {
        /// The checks that failed.
        failed: Vec<&'static str>,
    },
    /// The plan refused, or a bookkeeping query failed, before any change.
    #[error(transparent)]
    Engine(#[from] Error),
    /// The backup could not be written; nothing was changed.
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// Up failed; `rollback` says where the database is now.
    #[error("{error}; {rollback}")]
    UpFailed {
        /// What failed.
        #[source]
        error: Error,
        /// What the automatic rollback did.
        rollback: String,
    },
    /// Checks failed after up; `rollback` says where the database is now.
    #[error("verification failed ({failed} check(s)); {rollback}")]
    VerifyFailed {
        /// How many checks failed.
        failed: usize,
        /// What the automatic rollback did.
        rollback: String,
    },
    /// A view could not be refreshed (the migrations stay applied and verified).
    #[error("refreshing the views: {0}")]
    Refresh(String),
    /// Lint found errors in the files to run; nothing was changed.
    #[error(
        "lint found {errors} error(s) in the migrations to run; nothing was changed \
         (fix them, accept each with `-- mantis-lint: allow <rule>: <reason>`, or deploy \
         anyway with --allow-lint-errors, which the log records)"
    )]
    LintErrors {
        /// How many.
        errors: usize,
    },
}

/// Runs the deploy on `session` (connected to `target`), reporting to `on`.
///
/// # Errors
/// [`DeployError`]: before any change (preflight, plan, backup), or after up
/// or verify failed and the database was rolled back (the error says whether
/// the rollback worked).
pub async fn deploy(
    migrator: &Migrator,
    session: &Session,
    target: &ConnectOptions,
    options: &DeployOptions,
    on: &(dyn Fn(DeployEvent<'_>) + Sync),
) -> Result<Outcome, DeployError> {
    on(DeployEvent::Step(DeployStep::Preflight));
    let plan = check_before(migrator, session, options, on).await?;
    if plan.plan.steps.is_empty() {
        let version = plan.plan.current;
        on(DeployEvent::NothingToDo { version });
        return Ok(Outcome::UpToDate { version });
    }
    if let Some(gate) = &options.lint {
        lint_gate(&plan, gate, session, on).await?;
    }
    if options.dry_run {
        on(DeployEvent::DryRun);
        return Ok(Outcome::Planned { plan });
    }
    let before = plan.plan.current;

    on(DeployEvent::Step(DeployStep::Backup));
    let backup = take_backup(session, target, options, on).await?;

    on(DeployEvent::Step(DeployStep::Up));
    let run = match migrator.run(session, Direction::Up, Target::Default).await {
        Ok(run) => run,
        Err(error) => {
            on(DeployEvent::UpFailed(&error));
            let rollback = roll_back(migrator, session, before, on).await;
            return Err(DeployError::UpFailed { error, rollback });
        }
    };
    if run.completed.is_empty() {
        // Another deploy applied the pending migrations while this one
        // waited for the migration lock: it verifies and refreshes them.
        on(DeployEvent::AppliedElsewhere {
            version: run.version_after,
        });
        return Ok(Outcome::AppliedElsewhere { run });
    }
    on(DeployEvent::Applied(&run));
    let checked = verify_or_roll_back(migrator, session, &run, before, options, on).await?;

    on(DeployEvent::Step(DeployStep::Refresh));
    let refreshed = refresh_views(session.client(), on).await?;

    on(DeployEvent::Step(DeployStep::Summary));
    let summary = summary::read(session.client()).await.ok();
    Ok(Outcome::Deployed(Box::new(Deployed {
        backup,
        run,
        checked,
        refreshed,
        summary,
    })))
}

/// The verify step: the checks of what `run` applied; when one fails, back
/// to version `before`.
async fn verify_or_roll_back(
    migrator: &Migrator,
    session: &Session,
    run: &RunReport,
    before: Option<u64>,
    options: &DeployOptions,
    on: &(dyn Fn(DeployEvent<'_>) + Sync),
) -> Result<Vec<VerifyRun>, DeployError> {
    on(DeployEvent::Step(DeployStep::Verify));
    let checked = verify(migrator, session, run, options, on).await?;
    let failed = checked.iter().map(|c| c.report.failures().count()).sum();
    if failed > 0 {
        let rollback = roll_back(migrator, session, before, on).await;
        return Err(DeployError::VerifyFailed { failed, rollback });
    }
    on(if checked.is_empty() {
        DeployEvent::NoChecks
    } else {
        DeployEvent::Verified
    });
    Ok(checked)
}

/// Preflight: server, privileges, locks, long transactions, and the plan
/// (which refuses a drifted schema). Any failure stops the deploy here.
async fn check_before(
    migrator: &Migrator,
    session: &Session,
    options: &DeployOptions,
    on: &(dyn Fn(DeployEvent<'_>) + Sync),
) -> Result<RunReport, DeployError> {
    let findings = preflight::preflight(
        session,
        &PreflightOptions {
            max_transaction_age: options.max_transaction_age,
            ..PreflightOptions::default()
        },
    )
    .await?;
    for f in &findings {
        on(DeployEvent::Finding(f));
    }
    let plan = migrator.plan(session, Direction::Up, Target::Default).await;
    on(DeployEvent::SchemaChecked(plan.as_ref().map(|_| ())));
    let plan = plan?;
    let failed: Vec<&'static str> = findings.iter().filter(|f| !f.ok).map(|f| f.check).collect();
    if failed.is_empty() {
        Ok(plan)
    } else {
        Err(DeployError::Preflight { failed })
    }
}

/// Lints the files the plan runs, weighs the lock hazards by the live
/// tables, and refuses on errors unless the caller allowed them.
async fn lint_gate(
    plan: &RunReport,
    gate: &LintGate,
    session: &Session,
    on: &(dyn Fn(DeployEvent<'_>) + Sync),
) -> Result<(), DeployError> {
    let report = crate::lint::lint_plan(&plan.plan, &gate.options, session.client()).await?;
    on(DeployEvent::Linted(&report));
    let errors = report.count(mantis_lint::Severity::Error);
    match (errors, gate.allow_errors) {
        (0, _) => Ok(()),
        (errors, true) => {
            on(DeployEvent::LintOverridden { errors });
            Ok(())
        }
        (errors, false) => Err(DeployError::LintErrors { errors }),
    }
}

/// Dumps, verifies and records the backup, unless none was asked for.
async fn take_backup(
    session: &Session,
    target: &ConnectOptions,
    options: &DeployOptions,
    on: &(dyn Fn(DeployEvent<'_>) + Sync),
) -> Result<Option<BackupFile>, DeployError> {
    let Some(path) = &options.backup else {
        on(DeployEvent::BackupSkipped);
        return Ok(None);
    };
    let taken = backup::dump(
        target,
        session.server_version(),
        session.server_version_num(),
        &options.tools,
        path,
    )
    .await?;
    backup::record(session, &taken).await?;
    on(DeployEvent::BackedUp(&taken));
    Ok(Some(taken))
}

/// The checks of every migration the run applied that has a verify file (the
/// newest applied one's when none has; none when the set has no verify file
/// at all), each failing or warning check reported.
async fn verify(
    migrator: &Migrator,
    session: &Session,
    run: &RunReport,
    options: &DeployOptions,
    on: &(dyn Fn(DeployEvent<'_>) + Sync),
) -> Result<Vec<VerifyRun>, DeployError> {
    let mut checked = migrator
        .verify_applied(session, run, &options.verify)
        .await?;
    let set_has_checks = migrator
        .set()
        .migrations()
        .iter()
        .any(|m| m.verify.is_some());
    if checked.is_empty() && set_has_checks {
        checked.push(migrator.verify(session, None, &options.verify).await?);
    }
    for result in checked.iter().flat_map(|c| c.report.results.iter()) {
        if !result.passed() {
            on(DeployEvent::CheckFailed(result));
        }
    }
    Ok(checked)
}

/// Refreshes the views one at a time (none when the set has no 003); the
/// deploy fails when one of them cannot be refreshed.
async fn refresh_views(
    client: &tokio_postgres::Client,
    on: &(dyn Fn(DeployEvent<'_>) + Sync),
) -> Result<Option<Vec<Refreshed>>, DeployError> {
    let present = refresh::present(client)
        .await
        .map_err(|e| DeployError::Refresh(format!("looking for the inventory views: {e}")))?;
    if !present {
        on(DeployEvent::NoViews);
        return Ok(None);
    }
    let done = refresh::refresh_all(client).await;
    for r in &done {
        on(DeployEvent::Refreshed(r));
    }
    if let Some(failed) = done.iter().find(|r| r.error.is_some()) {
        return Err(DeployError::Refresh(failed.describe()));
    }
    Ok(Some(done))
}

/// Returns the database to `before`: undoes a half-done migration, then
/// reverts what this deploy applied. Says what it did, or what it could not.
async fn roll_back(
    migrator: &Migrator,
    session: &Session,
    before: Option<u64>,
    on: &(dyn Fn(DeployEvent<'_>) + Sync),
) -> String {
    on(DeployEvent::RollingBack { to: before });
    let result: Result<(), Error> = async {
        let status = migrator.status(session).await?;
        if status.current > before || status.partial.is_some() {
            // Down to the starting version undoes a half-done migration first.
            let report = migrator
                .run(
                    session,
                    Direction::Down,
                    before.map_or(Target::Nothing, Target::Version),
                )
                .await?;
            if report.plan.steps.iter().any(|s| s.undoes_partial) {
                on(DeployEvent::UndidPartial);
            }
        }
        Ok(())
    }
    .await;
    let target = before.map_or_else(|| "none".to_string(), |v| format!("{v:03}"));
    match result {
        Ok(()) => {
            on(DeployEvent::RolledBack { to: before });
            format!("the database was returned to version {target} (rolled back by deploy)")
        }
        Err(error) => {
            on(DeployEvent::RollbackFailed {
                to: before,
                error: &error,
            });
            format!(
                "the automatic rollback to version {target} failed too: {error}; `mantis status` shows where the database is"
            )
        }
    }
}
