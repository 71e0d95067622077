//! `mantis deploy`: runs the deploy workflow (`mantis_workflows::deploy`),
//! prints what it does on stderr and into a log file, and its result on
//! stdout.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use mantis_migrate::{describe_chain, EventSink};
use mantis_workflows::deploy::{self, DeployEvent, DeployOptions, LintGate, Outcome};

use crate::args::DeployArgs;
use crate::cmd::{demo, lint, migrate, pg_backup, verify};
use crate::context::Context;
use crate::exit::Fail;
use crate::{events, output};

/// What a deploy of a set without verify files says instead of the success line.
const NO_CHECKS: &str = "applied; not verified: no migration of the set has a verify file \
     (NNN_name.verify.sql: see docs/migrations.md)";

/// How many deploys starting in one second get a log of their own name.
const MAX_SAME_SECOND: u32 = 99;

/// Creates a file that must not exist, readable by its owner only (like the
/// backup beside it, it names tables and rows).
fn open_new(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)
}

/// Every line goes to stderr and, time-stamped, to the log file (none for a
/// dry run without `--log`: it changes nothing, so it leaves nothing behind).
struct Log {
    path: Option<PathBuf>,
    file: Option<Mutex<std::fs::File>>,
    quiet: bool,
}

impl Log {
    /// The log at `path`, which must not exist yet.
    fn create(path: PathBuf, quiet: bool) -> Result<Arc<Log>> {
        match open_new(&path) {
            Ok(file) => Ok(Log::new(path, file, quiet)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Fail::usage(format!(
                "the deploy log {} already exists; a log is never overwritten\n  hint: choose another --log",
                path.display()
            ))),
            Err(e) => Err(e).with_context(|| format!("creating the deploy log {}", path.display())),
        }
    }

    /// `mantis-deploy-<stamp>.log` in the current directory, the stamp made
    /// unique (`-2`, `-3`, …) when deploys start within the same second;
    /// returns the stamp too, which names the backup beside it.
    fn create_stamped(quiet: bool) -> Result<(Arc<Log>, String)> {
        let time = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        for n in 1..=MAX_SAME_SECOND {
            let stamp = if n == 1 {
                time.clone()
            } else {
                format!("{time}-{n}")
            };
            let path = PathBuf::from(format!("mantis-deploy-{stamp}.log"));
            match open_new(&path) {
                Ok(file) => return Ok((Log::new(path, file, quiet), stamp)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("creating the deploy log {}", path.display()))
                }
            }
        }
        Err(Fail::usage(format!(
            "{MAX_SAME_SECOND} deploy logs named mantis-deploy-{time}*.log already exist\n  hint: name the log with --log"
        )))
    }

    fn new(path: PathBuf, file: std::fs::File, quiet: bool) -> Arc<Log> {
        Arc::new(Log {
            path: Some(path),
            file: Some(Mutex::new(file)),
            quiet,
        })
    }

    /// Lines to stderr only.
    fn without_file(quiet: bool) -> Arc<Log> {
        Arc::new(Log {
            path: None,
            file: None,
            quiet,
        })
    }

    /// `; log: PATH`, or nothing without a file.
    fn where_(&self) -> String {
        self.path
            .as_ref()
            .map(|p| format!("; log: {}", p.display()))
            .unwrap_or_default()
    }

    fn line(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
        self.file_line(text);
    }

    /// Into the file only.
    fn file_line(&self, text: &str) {
        let Some(file) = &self.file else { return };
        if let Ok(mut file) = file.lock() {
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

pub async fn run(ctx: &Context, options: &DeployArgs) -> Result<()> {
    let (log, stamp) = match &options.log {
        Some(path) => (Log::create(path.clone(), ctx.quiet)?, pg_backup::stamp()),
        None if options.dry_run => (Log::without_file(ctx.quiet), pg_backup::stamp()),
        None => Log::create_stamped(ctx.quiet)?,
    };
    log.line(&format!("deploy to {}", ctx.connect.masked()));
    let result = deploy(ctx, options, &log, &stamp).await;
    match &result {
        Ok(_) => log.line(&format!("deploy finished{}", log.where_())),
        Err(e) => {
            // The error itself is said once on stderr (the last line, by
            // main) and once in the file; never nested in itself.
            log.file_line(&format!(
                "error: {}",
                mantis_migrate::describe_chain(e.as_ref())
            ));
            log.line(&format!("deploy stopped{}", log.where_()));
        }
    }
    let outcome = result?;
    let doc = document(&outcome, log.path.as_deref());
    output::emit(ctx.format, &doc, || text(&outcome))
}

async fn deploy(
    ctx: &Context,
    options: &DeployArgs,
    log: &Arc<Log>,
    stamp: &str,
) -> Result<Outcome> {
    let sink = log.sink();
    let migrator = ctx.migrator_with(sink.clone())?;
    let session = ctx.session_with(&ctx.connect, sink).await?;
    let workflow = DeployOptions {
        dry_run: options.dry_run,
        backup: (!options.no_backup).then(|| {
            options
                .backup_file
                .clone()
                .unwrap_or_else(|| pg_backup::default_file(&ctx.connect.dbname, stamp))
        }),
        max_transaction_age: options.max_transaction_age,
        tools: options.tools.tools(),
        verify: verify::options(&options.verify),
        lint: Some(LintGate {
            options: lint::set_options(ctx)?,
            allow_errors: options.allow_lint_errors,
        }),
    };
    let on = |event: DeployEvent<'_>| log.line(&describe(&event));
    deploy::deploy(&migrator, &session, &ctx.connect, &workflow, &on)
        .await
        .map_err(anyhow::Error::from)
}

/// The standbys and replication slots, under a heading.
pub fn replication_lines(findings: &[mantis_migrate::preflight::Finding]) -> String {
    let mut out = String::from("replication (batches wait for standbys; a slot keeps WAL):\n");
    for f in findings {
        out.push_str(&format!("  {}\n", finding_line(f)));
    }
    out
}

/// One event as log lines (the steps numbered, details indented).
/// `ok   check: detail` (or `warn`, `FAIL`).
pub fn finding_line(f: &mantis_migrate::preflight::Finding) -> String {
    let mark = match (f.ok, f.warning) {
        (false, _) => "FAIL",
        (true, true) => "warn",
        (true, false) => "ok",
    };
    format!("{mark:<4} {}: {}", f.check, f.detail)
}

fn describe(event: &DeployEvent<'_>) -> String {
    match event {
        DeployEvent::Step(step) => format!(
            "[{}/{}] {}",
            step.number(),
            mantis_workflows::DeployStep::COUNT,
            step.name()
        ),
        DeployEvent::Finding(f) => format!("  {}", finding_line(f)),
        DeployEvent::SchemaChecked(Ok(())) => "  ok   schema matches what its history says".into(),
        DeployEvent::SchemaChecked(Err(e)) => format!("  FAIL schema: {e}"),
        DeployEvent::Linted(report) => {
            let shown: Vec<mantis_lint::Finding> = report
                .findings
                .iter()
                .filter(|f| f.severity >= mantis_lint::Severity::Warning)
                .cloned()
                .collect();
            format!(
                "  lint of the files to run: {}\n{}",
                lint::counts(report),
                lint::render_findings(&shown)
            )
            .trim_end()
            .to_string()
        }
        DeployEvent::LintOverridden { errors } => format!(
            "  lint found {errors} error(s); deploying anyway, as --allow-lint-errors asks"
        ),
        DeployEvent::NothingToDo { version } => format!(
            "nothing to deploy: the database is at version {}",
            output::version(*version)
        ),
        DeployEvent::DryRun => "dry run: nothing was changed".into(),
        DeployEvent::BackupSkipped => "  skipped (--no-backup)".into(),
        DeployEvent::BackedUp(b) => format!("  {}", pg_backup::describe(b)),
        DeployEvent::Applied(run) => format!("  {}", migrate::summary(run)),
        DeployEvent::AppliedElsewhere { version } => format!(
            "nothing left to deploy: another session applied the pending migrations meanwhile; the database is at version {}",
            output::version(*version)
        ),
        DeployEvent::UpFailed(e) => format!("  up failed: {}", describe_chain(*e)),
        DeployEvent::CheckFailed(r) => {
            let mark = if r.fails_suite() { "FAIL" } else { "WARN" };
            format!("  {mark}  {}", r.describe())
        }
        DeployEvent::Verified => format!("  {}", verify::SUCCESS_LINE),
        DeployEvent::NoChecks => "  no migration of the set has a verify file: nothing to check".into(),
        DeployEvent::RollingBack { to } => {
            format!("  rolling back to version {}", output::version(*to))
        }
        DeployEvent::UndidPartial => "  undid the half-done migration with its down file".into(),
        DeployEvent::RolledBack { to } => format!(
            "  the database was returned to version {} (rolled back by deploy)",
            output::version(*to)
        ),
        DeployEvent::RollbackFailed { to, error } => format!(
            "  the automatic rollback to version {} failed too: {}; `mantis status` shows where the database is",
            output::version(*to),
            describe_chain(*error)
        ),
        DeployEvent::NoViews => "  skipped: the database has no MantisNXT inventory views (core.mv_*) to refresh".into(),
        DeployEvent::Refreshed(r) => format!("  {}", r.describe()),
    }
}

/// The result document of `--format json`.
fn document(outcome: &Outcome, log: Option<&std::path::Path>) -> serde_json::Value {
    match outcome {
        Outcome::UpToDate { version } => serde_json::json!({
            "outcome": "up_to_date", "version": version, "log": log,
        }),
        Outcome::Planned { plan } => serde_json::json!({
            "outcome": "dry_run", "plan": plan.plan, "log": log,
        }),
        Outcome::AppliedElsewhere { run } => serde_json::json!({
            "outcome": "applied_by_another_session", "version": run.version_after, "log": log,
        }),
        Outcome::Deployed(d) => serde_json::json!({
            "outcome": "deployed",
            "backup": d.backup,
            "run": d.run,
            "verify": {
                // null: the set has no verify file, nothing was checked.
                "passed": (!d.checked.is_empty()).then_some(true),
                "migrations": d.checked.iter().map(|c| c.version).collect::<Vec<_>>(),
                "checks": d.checked.iter().map(|c| c.report.checks().count()).sum::<usize>(),
            },
            "refreshed": d.refreshed,
            "summary": d.summary,
            "log": log,
        }),
    }
}

/// The text on stdout (the steps went to stderr and the log).
fn text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::UpToDate { version } => format!(
            "nothing to deploy: the database is at version {}\n",
            output::version(*version)
        ),
        Outcome::Planned { plan } => migrate::render_plan(plan),
        Outcome::AppliedElsewhere { run } => format!(
            "nothing left to deploy: another session applied the pending migrations meanwhile; the database is at version {}\n",
            output::version(run.version_after)
        ),
        Outcome::Deployed(d) => {
            let summary = d
                .summary
                .as_ref()
                .map(demo::render_summary)
                .unwrap_or_default();
            let verdict = if d.checked.is_empty() {
                NO_CHECKS
            } else {
                verify::SUCCESS_LINE
            };
            if summary.is_empty() {
                format!("{verdict}\n")
            } else {
                format!("{summary}\n{verdict}\n")
            }
        }
    }
}
