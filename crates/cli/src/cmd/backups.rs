//! `mantis backups` and `mantis up --restore-backup`: the data a down saved.

use anyhow::{Context as _, Result};
use mantis_migrate::Direction;
use mantis_schema::backups::{self, BackupSet};

use crate::args::Format;
use crate::cmd::migrate;
use crate::context::Context;
use crate::exit::Fail;
use crate::output;

pub async fn list(ctx: &Context) -> Result<()> {
    let session = ctx.session().await?;
    let sets = backups::list(session.client())
        .await
        .context("listing backup sets")?;
    match ctx.format {
        Format::Json => output::json(&sets),
        Format::Text => {
            print!("{}", render(&sets));
            Ok(())
        }
    }
}

fn render(sets: &[BackupSet]) -> String {
    if sets.is_empty() {
        return "no backup sets: `mantis down` saves one before reverting a migration with data\n"
            .to_string();
    }
    let mut out = String::from("backup sets (oldest first):\n");
    for set in sets {
        let rows: Vec<String> = set
            .rows
            .as_object()
            .map(|m| m.iter().map(|(t, n)| format!("{t} {n}")).collect())
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}  {:03}_{}  saved {}  rows: {}\n",
            set.schema,
            set.version,
            set.migration,
            set.created_at,
            rows.join(", ")
        ));
    }
    out
}

/// Applies pending migrations, then restores the named (or latest) backup of
/// a migration that this run applied.
pub async fn up_and_restore(
    ctx: &Context,
    to: Option<u64>,
    dry_run: bool,
    name: &str,
) -> Result<()> {
    let migrator = ctx.migrator()?;
    let session = ctx.session().await?;
    let sets = backups::list(session.client())
        .await
        .context("listing backup sets")?;
    let set = choose(&sets, name)?;
    let plan = migrator.run(&session, Direction::Up, to, true).await?;
    if !plan.plan.steps.iter().any(|s| s.version == set.version) {
        return Err(Fail::refused(format!(
            "backup {} belongs to migration {:03}, which this run does not apply \
             (the database is at version {}); restoring is only done right after \
             re-applying that migration, so that no newer data is replaced",
            set.schema,
            set.version,
            output::version(plan.plan.current)
        )));
    }
    if backups::restore_script(set.version).is_none() {
        return Err(Fail::refused(format!(
            "migration {:03} has no restore script; backup {} can only be read by hand",
            set.version, set.schema
        )));
    }
    if dry_run {
        print!("{}", migrate::render_plan(&plan));
        println!("\nthen: restore the data saved in {}", set.schema);
        return Ok(());
    }
    // The set is restored right after its migration, before later ones add
    // rules (004 makes movements append-only) that the restore would break.
    let mut report = migrator
        .run(&session, Direction::Up, Some(set.version), false)
        .await?;
    backups::restore(session.client(), set)
        .await
        .with_context(|| {
            format!(
                "migrations were applied up to {:03}, but restoring {} failed and was rolled back; \
             fix the cause, then run the restore script by hand (docs/execution-guide.md)",
                set.version, set.schema
            )
        })?;
    let rest = migrator.run(&session, Direction::Up, to, false).await?;
    report.completed.extend(rest.completed);
    report.version_after = rest.version_after;
    match ctx.format {
        Format::Json => output::json(&serde_json::json!({ "run": report, "restored": set })),
        Format::Text => {
            println!("{}", migrate::summary(&report));
            println!("restored the data saved in {}", set.schema);
            Ok(())
        }
    }
}

fn choose<'a>(sets: &'a [BackupSet], name: &str) -> Result<&'a BackupSet> {
    let found = if name == "latest" {
        sets.iter()
            .rev()
            .find(|s| backups::restore_script(s.version).is_some())
    } else {
        sets.iter().find(|s| s.schema == name)
    };
    found.ok_or_else(|| {
        let known: Vec<&str> = sets.iter().map(|s| s.schema.as_str()).collect();
        Fail::refused(format!(
            "no backup set named {name:?} (known: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
    })
}
