//! `mantis deploy`: the seed's five manual steps as one command that cannot
//! skip one — preflight, backup, up, verify, view refresh, summary — and that
//! returns the database to where it started when up or verify fails.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result};
use mantis_inventory::refresh::{self, Refreshed};
use mantis_migrate::backup::Tools;
use mantis_migrate::preflight::{self, Finding, PreflightOptions};
use mantis_migrate::{Direction, Error, EventSink, Migrator, RunReport, Session};
use mantis_schema::summary;

use crate::args::{Format, VerifyArgs};
use crate::cmd::{demo, migrate, pg_backup, verify};
use crate::context::Context;
use crate::exit::Fail;
use crate::{events, output};

/// What `deploy` was asked to do.
pub struct Options {
    pub dry_run: bool,
    /// None: no backup (`--no-backup`); Some(None): the default file name.
    pub backup: Option<Option<PathBuf>>,
    pub log: Option<PathBuf>,
    pub max_transaction_age: Duration,
    pub tools: Tools,
    pub verify: VerifyArgs,
}

/// Every line goes to stderr and, time-stamped, to the log file.
struct Log {
    path: PathBuf,
    file: Mutex<std::fs::File>,
    quiet: bool,
}

impl Log {
    fn create(path: PathBuf, quiet: bool) -> Result<Arc<Log>> {
        // Owner only, like the backup beside it (it names tables and rows).
        let file = std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("creating the deploy log {}", path.display()))?;
        Ok(Arc::new(Log {
            path,
            file: Mutex::new(file),
            quiet,
        }))
    }

    fn line(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
        if let Ok(mut file) = self.file.lock() {
            let stamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
            for line in text.lines() {
                let _ = writeln!(file, "{stamp} {line}");
            }
        }
    }

    /// Engine events (progress, notices, retries) into the log.
    fn sink(self: &Arc<Log>) -> EventSink {
        let log = Arc::clone(self);
        Arc::new(move |event| {
            if let Some(line) = events::describe(event, false) {
                log.line(&line);
            }
        })
    }
}

pub async fn run(ctx: &Context, options: &Options) -> Result<()> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let log_path = options
        .log
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("mantis-deploy-{stamp}.log")));
    let log = Log::create(log_path, ctx.quiet)?;
    log.line(&format!("deploy to {}", ctx.connect.masked()));
    let result = deploy(ctx, options, &log).await;
    match &result {
        Ok(()) => log.line(&format!("deploy finished; log: {}", log.path.display())),
        Err(e) => log.line(&format!(
            "deploy stopped: {e:#}\nlog: {}",
            log.path.display()
        )),
    }
    result
}

async fn deploy(ctx: &Context, options: &Options, log: &Arc<Log>) -> Result<()> {
    let sink = log.sink();
    let migrator = ctx.migrator_with(sink.clone())?;
    let session = ctx.session_with(&ctx.connect, sink).await?;

    log.line("[1/6] preflight");
    let plan = check_before(&migrator, &session, options, log).await?;
    if plan.plan.steps.is_empty() {
        log.line(&format!(
            "nothing to deploy: the database is at version {}",
            output::version(plan.plan.current)
        ));
        return Ok(());
    }
    if options.dry_run {
        print!("{}", migrate::render_plan(&plan));
        log.line("dry run: nothing was changed");
        return Ok(());
    }
    let before = plan.plan.current;

    log.line("[2/6] backup");
    let backup = match &options.backup {
        None => {
            log.line("  skipped (--no-backup)");
            None
        }
        Some(file) => {
            let path = file.clone().unwrap_or_else(|| {
                PathBuf::from(format!(
                    "mantis-{}-{}.dump",
                    ctx.connect.dbname,
                    chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
                ))
            });
            let taken = pg_backup::take(ctx, &session, &options.tools, &path).await?;
            log.line(&format!("  {}", pg_backup::describe(&taken)));
            Some(taken)
        }
    };

    log.line("[3/6] up");
    let run = match migrator.run(&session, Direction::Up, None, false).await {
        Ok(run) => run,
        Err(e) => {
            log.line(&format!("  up failed: {e}"));
            let back = roll_back(&migrator, &session, before, log).await;
            return Err(anyhow::Error::new(e).context(back));
        }
    };
    log.line(&format!("  {}", migrate::summary(&run)));
    if run.completed.is_empty() {
        // Another deploy applied the pending migrations while this one
        // waited for the migration lock: it verifies and refreshes them.
        log.line(&format!(
            "nothing left to deploy: another session applied the pending migrations meanwhile; the database is at version {}",
            output::version(run.version_after)
        ));
        return Ok(());
    }

    log.line("[4/6] verify");
    let verify_options = verify::options(&options.verify);
    let mut checked = verify::applied_in(&migrator, &session, &run, &verify_options).await?;
    if checked.is_empty() {
        checked.push(migrator.verify(&session, None, &verify_options).await?);
    }
    for line in checked
        .iter()
        .flat_map(|c| {
            verify::render(c)
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|l| l.contains("FAIL") || l.contains("WARN"))
    {
        log.line(&line);
    }
    let failed: Vec<String> = checked
        .iter()
        .flat_map(|c| c.report.failures().map(|r| r.describe()))
        .collect();
    if !failed.is_empty() {
        log.line(&format!(
            "  verification failed:\n    {}",
            failed.join("\n    ")
        ));
        let back = roll_back(&migrator, &session, before, log).await;
        return Err(Fail::checks(format!(
            "verification failed ({} check(s)); {back}",
            failed.len()
        )));
    }
    log.line(&format!("  {}", verify::SUCCESS_LINE));

    log.line("[5/6] refresh views");
    let refreshed = refresh_views(session.client(), log).await?;

    log.line("[6/6] summary");
    let summary = summary::read(session.client()).await.ok();
    match ctx.format {
        Format::Json => output::json(&serde_json::json!({
            "backup": backup,
            "run": run,
            "verify": {
                "passed": true,
                "migrations": checked.iter().map(|c| c.version).collect::<Vec<_>>(),
                "checks": checked.iter().map(|c| c.report.checks().count()).sum::<usize>(),
            },
            "refreshed": refreshed,
            "summary": summary,
            "log": log.path,
        }))?,
        Format::Text => {
            if let Some(s) = &summary {
                print!("{}", demo::render_summary(s));
            }
            println!("\n{}", verify::SUCCESS_LINE);
        }
    }
    Ok(())
}

/// Preflight: server, privileges, locks, long transactions, and the plan
/// (which refuses a drifted schema). Any failure stops the deploy here.
async fn check_before(
    migrator: &Migrator,
    session: &Session,
    options: &Options,
    log: &Log,
) -> Result<RunReport> {
    let findings = preflight::preflight(
        session,
        &PreflightOptions {
            max_transaction_age: options.max_transaction_age,
            ..PreflightOptions::default()
        },
    )
    .await?;
    for f in &findings {
        log.line(&format!(
            "  {:<4} {}: {}",
            if f.ok { "ok" } else { "FAIL" },
            f.check,
            f.detail
        ));
    }
    let plan = migrator.run(session, Direction::Up, None, true).await;
    match &plan {
        Ok(_) => log.line("  ok   schema matches what its history says"),
        Err(e) => log.line(&format!("  FAIL schema: {e}")),
    }
    let failed: Vec<&Finding> = findings.iter().filter(|f| !f.ok).collect();
    let plan = plan?;
    if !failed.is_empty() {
        let names: Vec<&str> = failed.iter().map(|f| f.check).collect();
        return Err(Fail::refused(format!(
            "preflight failed ({}); nothing was changed",
            names.join(", ")
        )));
    }
    Ok(plan)
}

/// Refreshes the views one at a time (none when the set has no 003); the
/// deploy fails when one of them cannot be refreshed.
async fn refresh_views(
    client: &tokio_postgres::Client,
    log: &Log,
) -> Result<Option<Vec<Refreshed>>> {
    if !refresh::present(client)
        .await
        .context("looking for the inventory views")?
    {
        log.line("  no inventory views to refresh");
        return Ok(None);
    }
    let done = refresh::refresh_all(client).await;
    for r in &done {
        log.line(&format!("  {}", r.describe()));
    }
    if let Some(failed) = done.iter().find(|r| r.error.is_some()) {
        anyhow::bail!("refreshing the views: {}", failed.describe());
    }
    Ok(Some(done))
}

/// Returns the database to `before`: undoes a half-done migration, then
/// reverts what this deploy applied. Says what it did, or what it could not.
async fn roll_back(
    migrator: &Migrator,
    session: &Session,
    before: Option<u64>,
    log: &Log,
) -> String {
    let target = output::version(before);
    log.line(&format!("  rolling back to version {target}"));
    let result: Result<(), Error> = async {
        let status = migrator.status(session).await?;
        if status.current > before || status.partial.is_some() {
            // Down to the starting version undoes a half-done migration first.
            let report = migrator
                .run(session, Direction::Down, Some(before.unwrap_or(0)), false)
                .await?;
            if report.plan.steps.iter().any(|s| s.undoes_partial) {
                log.line("  undid the half-done migration with its down file");
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            let text =
                format!("the database was returned to version {target} (rolled back by deploy)");
            log.line(&format!("  {text}"));
            text
        }
        Err(e) => {
            let text = format!(
                "the automatic rollback to version {target} failed too: {e}; `mantis status` shows where the database is"
            );
            log.line(&format!("  {text}"));
            text
        }
    }
}
