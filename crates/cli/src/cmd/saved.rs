//! `mantis saved` and `mantis up --restore-saved`: the data a `down` saved (not a pg_dump backup: see `mantis backup`).

use anyhow::{Context as _, Result};
use mantis_schema::backups::{self, BackupSet};
use mantis_workflows::restore::{self, SetChoice};

use crate::cmd::migrate;
use crate::context::Context;
use crate::output;

pub async fn list(ctx: &Context) -> Result<()> {
    let session = ctx.session().await?;
    let sets = backups::list(session.client())
        .await
        .context("listing saved sets")?;
    output::emit(ctx.format, &sets, || render(&sets))
}

fn render(sets: &[BackupSet]) -> String {
    if sets.is_empty() {
        return "no saved sets: `mantis down` saves one before reverting a migration with data\n"
            .to_string();
    }
    let mut out = String::from(
        "saved sets (oldest first; `mantis up --restore-saved NAME|latest` puts one back):\n",
    );
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
/// a migration that this run applied (`mantis_workflows::restore`).
pub async fn up_and_restore(
    ctx: &Context,
    to: mantis_migrate::Target,
    dry_run: bool,
    name: &str,
) -> Result<()> {
    let migrator = ctx.migrator()?;
    let session = ctx.session().await?;
    let done =
        restore::up_and_restore(&migrator, &session, to, dry_run, &SetChoice::parse(name)).await?;
    let (run, set) = (&done.run, &done.set);
    if dry_run {
        let doc = serde_json::json!({ "plan": run, "then_restore": set });
        return output::emit(ctx.format, &doc, || {
            format!(
                "{}\nthen: restore the data saved in {}\n",
                migrate::render_plan(run),
                set.schema
            )
        });
    }
    let doc = serde_json::json!({ "run": run, "restored": set });
    output::emit(ctx.format, &doc, || {
        format!(
            "{}\nrestored the data saved in {}\n",
            migrate::summary(run),
            set.schema
        )
    })
}
