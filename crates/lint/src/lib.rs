//! `mantis lint`: a migration's hazards, found before anything runs, with
//! PostgreSQL's own parser (libpg_query, through the `pg_query` crate).
//!
//! [`statement::classify`] is the one statement classifier (kind, label,
//! lock per table) that lint, plan and rehearse share. Rules live one per
//! file in `rules/`, listed once in [`rules::ALL`]. A lint run reads every
//! file ([`file::SqlFile`]), runs every rule, applies suppression comments
//! and the severities a project configured, and can weigh lock hazards by
//! the live tables they fall on ([`weigh`]).

pub mod allow;
pub mod file;
pub mod finding;
mod flow;
mod label;
pub mod locks;
mod long;
mod plpgsql;
pub mod rules;
pub mod sarif;
pub mod statement;
pub mod suppress;
pub mod walk;
pub mod weigh;

use std::collections::BTreeMap;

use serde::Serialize;

pub use file::{FileKind, SqlFile};
pub use finding::{Family, Finding, Severity, Weight};
pub use locks::{LockMode, TableLock};
pub use rules::Rule;
pub use statement::{classify, Classified};

/// What a rule is set to by configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Not run.
    Off,
    /// Run, reporting at this severity.
    On(Severity),
}

impl Level {
    /// Parses `off`, `info`, `warning`, `error`.
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "off" => Some(Level::Off),
            other => Severity::parse(other).map(Level::On),
        }
    }
}

/// How a lint run is configured.
#[derive(Debug, Clone)]
pub struct Options {
    /// The runner sets lock_timeout for each statement (mantis does unless
    /// `--lock-timeout 0`): `lock-timeout-missing` is then silent.
    pub runner_sets_lock_timeout: bool,
    /// Per-rule levels (rule id → level); unlisted rules keep their default.
    pub levels: BTreeMap<String, Level>,
    /// Hazards accepted outside the SQL (a project file's `[[lint.allow]]`).
    pub allow: Vec<allow::Allow>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            runner_sets_lock_timeout: true,
            levels: BTreeMap::new(),
            allow: Vec::new(),
        }
    }
}

/// A finding a suppression comment silenced.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// The comment's reason.
    pub reason: String,
}

/// The result of a lint run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Files read.
    pub files: usize,
    /// Statements read.
    pub statements: usize,
    /// Findings, in file order.
    pub findings: Vec<Finding>,
    /// Findings silenced by a suppression comment, with its reason.
    pub suppressed: Vec<Suppressed>,
    /// The lock each statement takes on each table that existed before its
    /// file, from SHARE UPDATE EXCLUSIVE up (what other sessions may wait for).
    pub locks: Vec<StatementLock>,
}

/// One statement's lock on one existing table.
#[derive(Debug, Clone, Serialize)]
pub struct StatementLock {
    /// File as given.
    pub file: String,
    /// Line where the statement starts.
    pub line: usize,
    /// The statement's label (`ALTER TABLE core.products`).
    pub statement: String,
    /// The table.
    pub table: String,
    /// The lock.
    pub mode: LockMode,
    /// Whether it runs inside a transaction (held until commit).
    pub in_transaction: bool,
    /// The table's size, when weighed against a database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<Weight>,
}

/// The locks of a file's statements on tables that existed before it.
fn statement_locks(file: &SqlFile) -> Vec<StatementLock> {
    let mut out = Vec::new();
    for stmt in &file.statements {
        for lock in &stmt.c.locks {
            if lock.mode < LockMode::ShareUpdateExclusive
                || !file.is_existing(&lock.table, stmt.index)
            {
                continue;
            }
            out.push(StatementLock {
                file: file.path.clone(),
                line: stmt.line,
                statement: stmt.c.label(),
                table: lock.table.clone(),
                mode: lock.mode,
                in_transaction: stmt.in_transaction,
                weight: None,
            });
        }
    }
    out
}

impl Report {
    /// How many findings have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The worst severity found, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// A rule id in the options that no rule has.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{0}` is not a lint rule (`mantis lint --rules` lists them)")]
pub struct UnknownRule(pub String);

/// Checks that every rule the options name exists.
///
/// # Errors
/// [`UnknownRule`] for the first that does not.
pub fn check_options(options: &Options) -> Result<(), UnknownRule> {
    match options.levels.keys().find(|id| rules::find(id).is_none()) {
        Some(id) => Err(UnknownRule(id.clone())),
        None => Ok(()),
    }
}

/// Lints files (path, text), in the order given: a later file sees the
/// earlier ones (a view created in one, refreshed in another).
pub fn lint(files: &[(String, String)], options: &Options) -> Report {
    let files: Vec<SqlFile> = files
        .iter()
        .map(|(path, text)| SqlFile::read(path, text))
        .collect();
    lint_files(&files, options)
}

/// Lints files already read.
pub fn lint_files(files: &[SqlFile], options: &Options) -> Report {
    let mut report = Report {
        files: files.len(),
        statements: files.iter().map(|f| f.statements.len()).sum(),
        ..Report::default()
    };
    for (i, file) in files.iter().enumerate() {
        report.locks.extend(statement_locks(file));
        let found = run_rules(file, &files[..i], options);
        let (suppressions, _) = suppress::read(file);
        for finding in found {
            let reason = suppression_for(&finding, file, &suppressions)
                .map(|s| s.reason.clone())
                .or_else(|| {
                    let a = options.allow.iter().find(|a| a.accepts(&finding))?;
                    Some(a.reason.clone())
                });
            match reason {
                Some(reason) => report.suppressed.push(Suppressed { finding, reason }),
                None => report.findings.push(finding),
            }
        }
    }
    report
}

fn run_rules(file: &SqlFile, earlier: &[SqlFile], options: &Options) -> Vec<Finding> {
    let mut found = Vec::new();
    for rule in rules::ALL {
        let level = options
            .levels
            .get(rule.id)
            .copied()
            .unwrap_or(Level::On(rule.severity));
        let Level::On(severity) = level else { continue };
        let mut ctx = rules::Ctx::new(rule, file, earlier, options);
        (rule.check)(&mut ctx);
        found.extend(ctx.into_findings().into_iter().map(|mut f| {
            f.severity = severity;
            f
        }));
    }
    found.sort_by_key(|f| (f.line, f.column));
    // What the loader refuses is often what a rule names better: keep the rule's.
    let named: Vec<usize> = found
        .iter()
        .filter(|f| f.rule != "runner-refuses" && f.severity == Severity::Error)
        .map(|f| f.line)
        .collect();
    found.retain(|f| f.rule != "runner-refuses" || !named.contains(&f.line));
    found
}

fn suppression_for<'a>(
    finding: &Finding,
    file: &SqlFile,
    suppressions: &'a [suppress::Suppression],
) -> Option<&'a suppress::Suppression> {
    let stmt = file
        .statements
        .iter()
        .find(|s| s.line <= finding.line && finding.line <= s.end_line())
        .map(|s| s.index);
    suppressions.iter().find(|s| {
        s.rule == finding.rule && (s.file_wide || (stmt.is_some() && s.statement == stmt))
    })
}
