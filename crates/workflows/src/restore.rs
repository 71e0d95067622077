//! `up --restore-backup`: re-apply a migration that a `down` reverted, then
//! put back the data that `down` saved (a saved set), then apply the rest.

use mantis_migrate::{Direction, Error, Migrator, RunReport, Session, Target};
use mantis_schema::backups::{self, BackupSet};

/// Which saved set to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetChoice {
    /// The newest set that has a restore script.
    Latest,
    /// The set saved in this schema.
    Named(String),
}

impl SetChoice {
    /// `latest`, or a schema name.
    pub fn parse(text: &str) -> SetChoice {
        if text == "latest" {
            SetChoice::Latest
        } else {
            SetChoice::Named(text.to_string())
        }
    }
}

/// What an `up --restore-backup` did (or, with `dry_run`, would do).
#[derive(Debug)]
pub struct Restored {
    /// The plan (with `dry_run`) or the migrations applied.
    pub run: RunReport,
    /// The saved set restored (or to be restored).
    pub set: BackupSet,
}

/// Why nothing, or not everything, was done.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// No saved set by that name (or none restorable).
    #[error("no saved set named {name:?} (known: {})", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    NoSuchSet {
        /// The name given.
        name: String,
        /// The sets there are.
        known: Vec<String>,
    },
    /// The run does not apply the set's migration, so restoring would
    /// replace newer data.
    #[error(
        "backup {schema} belongs to migration {version:03}, which this run does not apply \
         (the database is at version {current}); restoring is only done right after \
         re-applying that migration, so that no newer data is replaced"
    )]
    NotReapplied {
        /// The set.
        schema: String,
        /// Its migration.
        version: u64,
        /// Where the database is.
        current: String,
    },
    /// The set's migration has no restore script.
    #[error(
        "migration {version:03} has no restore script; backup {schema} can only be read by hand"
    )]
    NoScript {
        /// The set.
        schema: String,
        /// Its migration.
        version: u64,
    },
    /// Listing the sets or running a migration failed.
    #[error(transparent)]
    Engine(#[from] Error),
    /// The restore script failed (and was rolled back) after its migration
    /// was applied.
    #[error(
        "migrations were applied up to {version:03}, but restoring {schema} failed and was rolled back: {}; \
         fix the cause, then run the restore script by hand (docs/execution-guide.md)",
        mantis_migrate::describe_chain(.source)
    )]
    Restore {
        /// The set.
        schema: String,
        /// Its migration, now applied.
        version: u64,
        /// The database's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The saved sets could not be listed.
    #[error("listing saved sets")]
    List(#[source] tokio_postgres::Error),
}

/// Applies pending migrations as far as `to`, restoring `choice` right after its
/// migration is applied again (before later ones add rules the restore would
/// break, e.g. 004 makes movements append-only).
///
/// # Errors
/// [`RestoreError`]; the refusals come before anything changes.
pub async fn up_and_restore(
    migrator: &Migrator,
    session: &Session,
    to: Target,
    dry_run: bool,
    choice: &SetChoice,
) -> Result<Restored, RestoreError> {
    let sets = backups::list(session.client())
        .await
        .map_err(RestoreError::List)?;
    let set = choose(&sets, choice)?.clone();
    let plan = migrator.plan(session, Direction::Up, to).await?;
    if !plan.plan.steps.iter().any(|s| s.version == set.version) {
        return Err(RestoreError::NotReapplied {
            schema: set.schema,
            version: set.version,
            current: plan
                .plan
                .current
                .map_or_else(|| "none".to_string(), |v| format!("{v:03}")),
        });
    }
    if backups::restore_script(set.version).is_none() {
        return Err(RestoreError::NoScript {
            schema: set.schema,
            version: set.version,
        });
    }
    if dry_run {
        return Ok(Restored { run: plan, set });
    }
    let mut run = migrator
        .run(session, Direction::Up, Target::Version(set.version))
        .await?;
    backups::restore(session.client(), &set)
        .await
        .map_err(|source| RestoreError::Restore {
            schema: set.schema.clone(),
            version: set.version,
            source,
        })?;
    let rest = migrator.run(session, Direction::Up, to).await?;
    run.completed.extend(rest.completed);
    run.version_after = rest.version_after;
    Ok(Restored { run, set })
}

fn choose<'a>(sets: &'a [BackupSet], choice: &SetChoice) -> Result<&'a BackupSet, RestoreError> {
    let found = match choice {
        SetChoice::Latest => sets
            .iter()
            .rev()
            .find(|s| backups::restore_script(s.version).is_some()),
        SetChoice::Named(name) => sets.iter().find(|s| &s.schema == name),
    };
    found.ok_or_else(|| RestoreError::NoSuchSet {
        name: match choice {
            SetChoice::Latest => "latest".to_string(),
            SetChoice::Named(name) => name.clone(),
        },
        known: sets.iter().map(|s| s.schema.clone()).collect(),
    })
}
