//! The project file, `mantis.toml`: the defaults a team shares (migration
//! directory, run timeouts, lint severities and accepted hazards). Found
//! from the current directory upward (`MANTIS_CONFIG` names one instead).
//! A setting comes from its flag, else its environment variable, else this
//! file, else mantis's default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use serde::Deserialize;

use crate::exit::Fail;

/// The file's name.
pub const FILE_NAME: &str = "mantis.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default)]
    migrations: Migrations,
    #[serde(default)]
    run: Run,
    #[serde(default)]
    lint: Lint,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Migrations {
    dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Run {
    lock_timeout: Option<String>,
    lock_retries: Option<u32>,
    statement_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Lint {
    fail_on: Option<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    #[serde(default)]
    allow: Vec<mantis_lint::allow::Allow>,
}

/// The project's settings, read and checked.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// Where they came from (None: no project file).
    pub path: Option<PathBuf>,
    /// The migration directory (relative paths are the file's directory's).
    pub migrations_dir: Option<PathBuf>,
    /// `[run] lock_timeout`.
    pub lock_timeout: Option<Duration>,
    /// `[run] lock_retries`.
    pub lock_retries: Option<u32>,
    /// `[run] statement_timeout`.
    pub statement_timeout: Option<Duration>,
    /// `[lint] fail_on`.
    pub fail_on: Option<mantis_lint::Severity>,
    /// `[lint.severity]`: rule → level.
    pub lint_levels: BTreeMap<String, mantis_lint::Level>,
    /// `[[lint.allow]]`.
    pub lint_allow: Vec<mantis_lint::allow::Allow>,
}

impl Project {
    /// The project file named by `MANTIS_CONFIG`, else the first
    /// `mantis.toml` from the current directory upward, else none.
    ///
    /// # Errors
    /// Exit 2 naming the file and the problem (unreadable, not TOML, an
    /// unknown key, a bad duration, level or rule).
    pub fn load() -> Result<Project> {
        let path = match std::env::var_os("MANTIS_CONFIG") {
            Some(p) => Some(PathBuf::from(p)),
            None => std::env::current_dir().ok().and_then(|d| find(&d)),
        };
        match path {
            Some(path) => read(&path),
            None => Ok(Project::default()),
        }
    }
}

/// The first entry named `mantis.toml` from `start` upward, whatever it is
/// (a directory or a link that leads nowhere is reported by [`read`], never
/// passed over for a file further up).
fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| std::fs::symlink_metadata(p).is_ok())
}

fn read(path: &Path) -> Result<Project> {
    let bad = |what: String| Fail::usage(format!("{}: {what}", path.display()));
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(bad(
                "is a directory, not the project file; remove or rename it (or name the file with MANTIS_CONFIG)"
                    .into(),
            ))
        }
        Err(e) if std::fs::symlink_metadata(path).is_ok() => {
            return Err(bad(format!(
                "is a symbolic link that cannot be followed ({e}); fix or remove it"
            )))
        }
        _ => {}
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let doc: Document = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
    mantis_lint::allow::parse(&text).map_err(bad)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let duration = |key: &str, v: &Option<String>| -> Result<Option<Duration>> {
        v.as_deref()
            .map(|t| crate::args::parse_duration(t).map_err(|e| bad(format!("[run] {key}: {e}"))))
            .transpose()
    };
    let fail_on = doc
        .lint
        .fail_on
        .as_deref()
        .map(|v| {
            mantis_lint::Severity::parse(v).ok_or_else(|| {
                bad(format!(
                    "[lint] fail_on = {v:?}: use error, warning or info"
                ))
            })
        })
        .transpose()?;
    let mut lint_levels = BTreeMap::new();
    for (rule, level) in &doc.lint.severity {
        let level = mantis_lint::Level::parse(level).ok_or_else(|| {
            bad(format!(
                "[lint.severity] {rule} = {level:?}: use off, info, warning or error"
            ))
        })?;
        if mantis_lint::rules::find(rule).is_none() {
            return Err(bad(format!("[lint.severity] `{rule}` is not a lint rule")));
        }
        lint_levels.insert(rule.clone(), level);
    }
    Ok(Project {
        path: Some(path.to_path_buf()),
        migrations_dir: doc.migrations.dir.map(|d| base.join(d)),
        lock_timeout: duration("lock_timeout", &doc.run.lock_timeout)?,
        lock_retries: doc.run.lock_retries,
        statement_timeout: duration("statement_timeout", &doc.run.statement_timeout)?,
        fail_on,
        lint_levels,
        lint_allow: doc.lint.allow,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn reads_every_section_and_resolves_the_directory_beside_the_file() {
        let (dir, path) = write(
            "[migrations]\ndir = \"db\"\n[run]\nlock_timeout = \"2s\"\nlock_retries = 9\n\
             [lint]\nfail_on = \"warning\"\n[lint.severity]\nwhole-table-update = \"off\"\n\
             [[lint.allow]]\nfile = \"a.sql\"\nrule = \"drop-cascade\"\nreason = \"the type is ours alone\"\n",
        );
        let p = read(&path).unwrap();
        assert_eq!(p.migrations_dir, Some(dir.path().join("db")));
        assert_eq!(p.lock_timeout, Some(Duration::from_secs(2)));
        assert_eq!(p.lock_retries, Some(9));
        assert_eq!(p.fail_on, Some(mantis_lint::Severity::Warning));
        assert_eq!(p.lint_levels["whole-table-update"], mantis_lint::Level::Off);
        assert_eq!(p.lint_allow.len(), 1);
        let nested = dir.path().join("x/y");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(find(&nested), Some(path));
    }

    #[test]
    fn refuses_what_it_does_not_know_naming_the_file() {
        for bad in [
            "[run]\nlock_timeout = \"soon\"\n",
            "[runn]\nx = 1\n",
            "[lint.severity]\nno-such-rule = \"off\"\n",
            "[lint.severity]\ndrop-cascade = \"fatal\"\n",
            "[[lint.allow]]\nfile = \"a.sql\"\nrule = \"drop-cascade\"\nreason = \"\"\n",
        ] {
            let (_dir, path) = write(bad);
            let err = read(&path).unwrap_err().to_string();
            assert!(err.contains(FILE_NAME), "{bad}: {err}");
        }
    }
}
