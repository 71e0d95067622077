//! `mantis lint`: a migration set's hazards, before anything runs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result};
use mantis_lint::{rules, Finding, Level, Options, Report, Severity};
use serde::Serialize;

use crate::args::{LintArgs, OutputFormat};
use crate::context::Context;
use crate::exit::Fail;
use crate::output;

/// Runs lint; `weigh`: the user named a database (`--database-url`).
pub async fn run(ctx: &Context, args: &LintArgs, weigh: bool) -> Result<()> {
    if args.rules {
        return list_rules(ctx.format);
    }
    let paths: Vec<PathBuf> = match (args.paths.is_empty(), ctx.source()) {
        (true, Some(dir)) => vec![dir.to_path_buf()],
        _ => args.paths.clone(),
    };
    let options = options(ctx, args, paths.is_empty())?;
    let (files, origin) = read_files(&paths)?;
    let started = Instant::now();
    let mut report = mantis_lint::lint(&files, &options);
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if weigh {
        let session = ctx.session().await?;
        mantis_lint::weigh::weigh_report(session.client(), &mut report)
            .await
            .context("weighing the findings against the database")?;
    }
    emit(ctx.format, &report, &origin, elapsed_ms)?;
    let fail_on = args
        .fail_on
        .map(|f| f.severity())
        .or(ctx.project.fail_on)
        .unwrap_or(Severity::Error);
    judge(&report, fail_on)
}

/// The options for linting the migration set a command runs (plan,
/// deploy): mantis.toml's levels and accepted hazards (with the embedded
/// set's own for the embedded set), and whether the runner sets lock_timeout.
pub fn set_options(ctx: &Context) -> Result<Options> {
    base_options(ctx, !ctx.run.lock_timeout.is_zero(), ctx.source().is_none())
}

fn base_options(ctx: &Context, runner_sets_lock_timeout: bool, embedded: bool) -> Result<Options> {
    let mut options = Options {
        runner_sets_lock_timeout,
        levels: ctx.project.lint_levels.clone(),
        allow: ctx.project.lint_allow.clone(),
    };
    if embedded {
        let own = mantis_lint::allow::parse(mantis_schema::LINT_ALLOW)
            .map_err(|e| anyhow::anyhow!("the embedded lint-allow.toml: {e}"))?;
        options.allow.extend(own);
    }
    Ok(options)
}

/// `mantis lint`'s options: flags (or their environment variables) over
/// mantis.toml over the defaults.
fn options(ctx: &Context, args: &LintArgs, embedded: bool) -> Result<Options> {
    let runner_timeout = ctx.project.lock_timeout.is_none_or(|t| !t.is_zero());
    let runner = runner_timeout && !args.no_runner_lock_timeout;
    let mut options = base_options(ctx, runner, embedded)?;
    for setting in args.rule_levels.iter().filter(|s| !s.is_empty()) {
        let (id, level) = setting.split_once('=').unwrap_or((setting, ""));
        let level = Level::parse(level).ok_or_else(|| {
            Fail::usage(format!(
                "--rule {setting}: write RULE=off|info|warning|error"
            ))
        })?;
        options.levels.insert(id.to_string(), level);
    }
    mantis_lint::check_options(&options).map_err(|e| Fail::usage(e.to_string()))?;
    Ok(options)
}

/// The files to lint, in order: each path's `.sql` files (a directory's
/// sorted by name), or the embedded set's up, down and verify files.
fn read_files(paths: &[PathBuf]) -> Result<(Vec<(String, String)>, String)> {
    if paths.is_empty() {
        let set = mantis_schema::migrations()?;
        let files = set
            .migrations()
            .iter()
            .flat_map(|m| [Some(&m.up), m.down.as_ref(), m.verify.as_ref()])
            .flatten()
            .map(|s| (s.path.clone(), s.sql.clone()))
            .collect();
        return Ok((files, set.origin().to_string()));
    }
    let mut files = Vec::new();
    for path in paths {
        for file in sql_files(path)? {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))
                .map_err(|e| Fail::usage(format!("{e:#}")))?;
            files.push((file.display().to_string(), text));
        }
    }
    let origin = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Ok((files, origin))
}

fn sql_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| {
        Fail::usage(format!(
            "{}: {e}; name SQL files or directories that hold them",
            path.display()
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Fail::usage(format!("{}: no .sql files", path.display())));
    }
    Ok(files)
}

#[derive(Serialize)]
struct Document<'a> {
    origin: &'a str,
    elapsed_ms: f64,
    errors: usize,
    warnings: usize,
    infos: usize,
    #[serde(flatten)]
    report: &'a Report,
}

fn emit(format: OutputFormat, report: &Report, origin: &str, elapsed_ms: f64) -> Result<()> {
    if format == OutputFormat::Sarif {
        let sarif = mantis_lint::sarif::to_sarif(report, env!("CARGO_PKG_VERSION"));
        return output::json(&sarif);
    }
    let doc = Document {
        origin,
        elapsed_ms,
        errors: report.count(Severity::Error),
        warnings: report.count(Severity::Warning),
        infos: report.count(Severity::Info),
        report,
    };
    output::emit(format, &doc, || render(&doc))
}

/// Findings like a compiler's: `file:line:col: severity[rule]: message`,
/// then the statement's first line.
pub fn render_findings(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{}:{}:{}: {}[{}]: {}\n    | {}\n",
            f.file,
            f.line,
            f.column,
            f.severity.as_str(),
            f.rule,
            f.message,
            f.excerpt
        ));
        if let Some(why) = &f.downgraded {
            out.push_str(&format!("    = severity lowered: {why}\n"));
        }
    }
    out
}

/// Each statement's lock on each existing table, weighed when it could be:
/// `  file:line  ALTER TABLE core.products: ACCESS EXCLUSIVE on core.products [1.0M rows, 412.3 MB]`.
pub fn render_locks(locks: &[mantis_lint::StatementLock]) -> String {
    let mut out = String::new();
    for l in locks {
        let weight = l
            .weight
            .as_ref()
            .map(|w| format!(" [{}]", mantis_lint::weigh::describe(w)))
            .unwrap_or_default();
        let held = if l.in_transaction {
            ", held until commit"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {}:{}  {}: {} on {}{weight}{held}\n",
            l.file,
            l.line,
            l.statement,
            l.mode.as_str(),
            l.table
        ));
    }
    out
}

/// `N error(s), M warning(s), K info; J accepted by a stated reason`.
pub fn counts(report: &Report) -> String {
    format!(
        "{} error(s), {} warning(s), {} info; {} accepted by a stated reason",
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Info),
        report.suppressed.len()
    )
}

fn render(doc: &Document<'_>) -> String {
    let mut out = render_findings(&doc.report.findings);
    out.push_str(&format!(
        "{}: {}; {} file(s), {} statement(s) in {:.0} ms\n",
        doc.origin,
        counts(doc.report),
        doc.report.files,
        doc.report.statements,
        doc.elapsed_ms
    ));
    out
}

fn judge(report: &Report, fail_on: Severity) -> Result<()> {
    let failing = report
        .findings
        .iter()
        .filter(|f| f.severity >= fail_on)
        .count();
    if failing > 0 {
        return Err(Fail::lint(format!(
            "lint found {failing} hazard(s) at {} or above (exit 9); fix them, or accept one \
             with `-- mantis-lint: allow <rule>: <reason>` above its statement",
            fail_on.as_str()
        )));
    }
    Ok(())
}

#[derive(Serialize)]
struct RuleRow {
    id: &'static str,
    family: &'static str,
    severity: &'static str,
    hazard: &'static str,
    safe: &'static str,
    example: &'static str,
}

fn list_rules(format: OutputFormat) -> Result<()> {
    let rows: Vec<RuleRow> = rules::ALL
        .iter()
        .map(|r| RuleRow {
            id: r.id,
            family: r.family.as_str(),
            severity: r.severity.as_str(),
            hazard: r.hazard,
            safe: r.safe,
            example: r.example,
        })
        .collect();
    output::emit(format, &rows, || {
        rows.iter()
            .map(|r| {
                format!(
                    "{:<36} {:<12} {:<8} {}\n",
                    r.id, r.family, r.severity, r.hazard
                )
            })
            .collect()
    })
}
