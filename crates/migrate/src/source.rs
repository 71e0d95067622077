//! Migration sets: the files of one migration history, parsed and checked.
//!
//! A set comes from a directory (`--source DIR`) or from files embedded in a
//! binary. Every problem is collected before anything runs, so a user sees the
//! whole list of offending files at once.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{FileProblem, SourceError};
use crate::script::{Script, ScriptKind};
use crate::types::Checksum;

/// One versioned migration: an up script and optional down and verify scripts.
#[derive(Debug, Clone)]
pub struct Migration {
    /// Version number from the file name (`003_x` → 3).
    pub version: u64,
    /// Name from the file name (`003_add_brand` → `add_brand`).
    pub name: String,
    /// The forward script.
    pub up: Script,
    /// The reverting script, if any.
    pub down: Option<Script>,
    /// The verify checks, if any.
    pub verify: Option<Script>,
}

impl Migration {
    /// The named checks of its verify file, if it has one.
    pub fn verify_suite(&self) -> Option<crate::verify::Suite> {
        self.verify.as_ref().map(crate::verify::Suite::from_script)
    }

    /// Checksum of the up file's bytes: what history records.
    pub fn checksum(&self) -> Checksum {
        self.up.checksum
    }
}

/// An ordered, validated collection of migrations.
#[derive(Debug, Clone)]
pub struct MigrationSet {
    origin: String,
    migrations: Vec<Migration>,
}

/// A file name split into its parts.
struct FileName {
    version: u64,
    name: String,
    kind: ScriptKind,
}

impl MigrationSet {
    /// Reads every `*.sql` file of `dir` (not recursive); other files are ignored.
    ///
    /// # Errors
    /// [`SourceError::Io`] when the directory or a file cannot be read,
    /// [`SourceError::Invalid`] listing every malformed file.
    pub fn from_dir(dir: &Path) -> Result<Self, SourceError> {
        let io_err = |source| SourceError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut files = Vec::new();
        let mut unreadable = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_err)? {
            let path = entry.map_err(io_err)?.path();
            if path.extension().is_none_or(|e| e != "sql") {
                continue;
            }
            match read_sql_file(&path) {
                Ok(bytes) => {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    files.push((name, bytes));
                }
                Err(problem) => unreadable.push(FileProblem {
                    file: path.display().to_string(),
                    problem,
                }),
            }
        }
        let origin = dir.display().to_string();
        if files.is_empty() && unreadable.is_empty() {
            let nested = nested_sql(dir);
            return Err(SourceError::Empty {
                origin,
                nested: nested.len(),
                example: nested.first().cloned().unwrap_or_default(),
            });
        }
        match (Self::from_files(&origin, files), unreadable.is_empty()) {
            (result, true) => result,
            (Ok(_), false) => Err(SourceError::Invalid {
                origin,
                problems: unreadable,
            }),
            (Err(SourceError::Invalid { mut problems, .. }), false) => {
                problems.extend(unreadable);
                problems.sort_by(|a, b| a.file.cmp(&b.file));
                Err(SourceError::Invalid { origin, problems })
            }
            (Err(e), false) => Err(e),
        }
    }

    /// Builds a set from `(file name, contents)` pairs; `origin` names where they
    /// came from in messages (a directory, or "embedded").
    ///
    /// # Errors
    /// [`SourceError::Invalid`] listing every malformed file.
    pub fn from_files<N, B>(
        origin: &str,
        files: impl IntoIterator<Item = (N, B)>,
    ) -> Result<Self, SourceError>
    where
        N: AsRef<str>,
        B: AsRef<[u8]>,
    {
        let mut problems = Vec::new();
        let mut parsed = Vec::new();
        for (name, bytes) in files {
            let (name, bytes) = (name.as_ref(), bytes.as_ref());
            let display = format!("{}/{}", origin.trim_end_matches('/'), name);
            match parse_file(name, &display, bytes) {
                Ok(file) => parsed.push(file),
                Err(problem) => problems.push(problem),
            }
        }
        let migrations = assemble(parsed, &mut problems);
        if !problems.is_empty() {
            problems.sort_by(|a, b| a.file.cmp(&b.file));
            return Err(SourceError::Invalid {
                origin: origin.to_string(),
                problems,
            });
        }
        Ok(MigrationSet {
            origin: origin.to_string(),
            migrations,
        })
    }

    /// Where the files came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// All migrations, ordered by version.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// The migration with this version.
    pub fn get(&self, version: u64) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.version == version)
    }

    /// The highest version in the set.
    pub fn latest(&self) -> Option<u64> {
        self.migrations.last().map(|m| m.version)
    }
}

/// A `*.sql` entry of a migration directory, read; or why it cannot be (a
/// symlink that leads nowhere or in a loop, a directory, a device…): every
/// such entry is reported, none silently skipped.
fn read_sql_file(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            format!("is a symbolic link that cannot be followed ({e}); fix or remove it")
        } else {
            format!("cannot be read ({e})")
        }
    })?;
    if meta.is_dir() {
        return Err("is a directory; a migration is a file (move or rename it)".to_string());
    }
    if !meta.is_file() {
        return Err("is not a regular file; a migration is a file".to_string());
    }
    std::fs::read(path).map_err(|e| format!("cannot be read ({e})"))
}

type ParsedFile = (FileName, Script);

fn parse_file(name: &str, display: &str, bytes: &[u8]) -> Result<ParsedFile, FileProblem> {
    let problem = |message: String| FileProblem {
        file: display.to_string(),
        problem: message,
    };
    let file_name = parse_file_name(name).ok_or_else(|| {
        if version_zero(name) {
            problem(
                "version 0 is reserved (it means no migration applied: `mantis down --to 0`); \
                 number migrations from 1 (e.g. 001_…)"
                    .to_string(),
            )
        } else {
            problem("name does not match NNN_snake_name.{up,down,verify}.sql".to_string())
        }
    })?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Err(problem(
            "starts with a byte order mark (BOM); save it as UTF-8 without BOM".to_string(),
        ));
    }
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(problem(format!(
            "has a NUL byte on line {line}, which PostgreSQL cannot take in SQL text; remove it"
        )));
    }
    let text =
        std::str::from_utf8(bytes).map_err(|e| problem(format!("is not valid UTF-8 ({e})")))?;
    let script = Script::parse(display, text, file_name.kind).map_err(problem)?;
    Ok((file_name, script))
}

/// Whether `name` is numbered 0 (`0_…`, `000_…`).
fn version_zero(name: &str) -> bool {
    name.split_once('_')
        .is_some_and(|(digits, _)| !digits.is_empty() && digits.bytes().all(|b| b == b'0'))
}

fn parse_file_name(name: &str) -> Option<FileName> {
    let stem = name.strip_suffix(".sql")?;
    let (rest, kind) = match stem.rsplit_once('.')? {
        (rest, "up") => (rest, ScriptKind::Up),
        (rest, "down") => (rest, ScriptKind::Down),
        (rest, "verify") => (rest, ScriptKind::Verify),
        _ => return None,
    };
    let (digits, snake) = rest.split_once('_')?;
    let valid_digits = !digits.is_empty() && digits.len() <= 18;
    let valid_digits = valid_digits && digits.bytes().all(|b| b.is_ascii_digit());
    let valid_name = !snake.is_empty()
        && snake
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_digits || !valid_name {
        return None;
    }
    let version = digits.parse().ok().filter(|v| *v > 0)?;
    Some(FileName {
        version,
        name: snake.to_string(),
        kind,
    })
}

#[derive(Default)]
struct Parts {
    up: Vec<(String, Script)>,
    down: Vec<(String, Script)>,
    verify: Vec<(String, Script)>,
}

fn assemble(files: Vec<ParsedFile>, problems: &mut Vec<FileProblem>) -> Vec<Migration> {
    let mut by_version: BTreeMap<u64, Parts> = BTreeMap::new();
    for (file, script) in files {
        let parts = by_version.entry(file.version).or_default();
        match file.kind {
            ScriptKind::Up => parts.up.push((file.name, script)),
            ScriptKind::Down => parts.down.push((file.name, script)),
            ScriptKind::Verify => parts.verify.push((file.name, script)),
        }
    }
    by_version
        .into_iter()
        .filter_map(|(version, parts)| migration_from_parts(version, parts, problems))
        .collect()
}

fn migration_from_parts(
    version: u64,
    mut parts: Parts,
    problems: &mut Vec<FileProblem>,
) -> Option<Migration> {
    if parts.up.len() > 1 {
        let files: Vec<&str> = parts.up.iter().map(|(_, s)| s.path.as_str()).collect();
        for (_, script) in &parts.up {
            problems.push(FileProblem {
                file: script.path.clone(),
                problem: format!("duplicate version {version} (files: {})", files.join(", ")),
            });
        }
        return None;
    }
    let Some((name, up)) = parts.up.pop() else {
        orphans(&parts.down, &parts.verify, None, problems);
        return None;
    };
    let down = take_companion(&mut parts.down, &name);
    let verify = take_companion(&mut parts.verify, &name);
    orphans(&parts.down, &parts.verify, Some(&up.path), problems);
    Some(Migration {
        version,
        name,
        up,
        down,
        verify,
    })
}

fn take_companion(list: &mut Vec<(String, Script)>, name: &str) -> Option<Script> {
    let index = list.iter().position(|(n, _)| n == name)?;
    Some(list.remove(index).1)
}

fn orphans(
    down: &[(String, Script)],
    verify: &[(String, Script)],
    up: Option<&str>,
    problems: &mut Vec<FileProblem>,
) {
    let reason = match up {
        Some(up) => format!("its name does not match the up file of its version ({up})"),
        None => "has no matching .up.sql file".to_string(),
    };
    for (_, script) in down.iter().chain(verify) {
        problems.push(FileProblem {
            file: script.path.clone(),
            problem: reason.clone(),
        });
    }
}

/// The `.sql` files in the subdirectories of `dir` (two levels down at
/// most, sorted), relative to it: where a set laid out one directory per
/// migration keeps them.
fn nested_sql(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), 0)];
    while let Some((at, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.is_dir() && depth < 2 {
                pending.push((path, depth + 1));
            } else if depth > 0 && path.extension().is_some_and(|e| e == "sql") {
                let relative = path.strip_prefix(dir).unwrap_or(&path);
                found.push(relative.display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(files: &[(&str, &str)]) -> Result<MigrationSet, SourceError> {
        MigrationSet::from_files("dir", files.iter().copied())
    }

    fn problems(files: &[(&str, &str)]) -> Vec<String> {
        match set(files) {
            Err(SourceError::Invalid { problems, .. }) => problems
                .into_iter()
                .map(|p| format!("{}: {}", p.file, p.problem))
                .collect(),
            other => panic!("expected invalid set, got {other:?}"),
        }
    }

    #[test]
    fn parses_and_orders_versions() {
        let s = set(&[
            ("010_later.up.sql", "select 10;"),
            ("002_first.up.sql", "select 2;"),
            ("002_first.down.sql", "select -2;"),
            ("002_first.verify.sql", "select 1 where false;"),
        ])
        .unwrap();
        let versions: Vec<u64> = s.migrations().iter().map(|m| m.version).collect();
        assert_eq!(versions, [2, 10]);
        let first = s.get(2).unwrap();
        assert_eq!(first.name, "first");
        assert!(first.down.is_some() && first.verify.is_some());
        assert_eq!(first.checksum(), Checksum::of(b"select 2;"));
        assert_eq!(s.latest(), Some(10));
    }

    #[test]
    fn lists_every_malformed_name() {
        let got = problems(&[
            ("1-bad.up.sql", "select 1;"),
            ("002_Upper.up.sql", "select 1;"),
            ("003_x.sideways.sql", "select 1;"),
            ("000_zero.up.sql", "select 1;"),
            ("004_ok.up.sql", "select 1;"),
        ]);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(
            got[0].starts_with("dir/000_zero.up.sql") && got[0].contains("version 0 is reserved")
        );
        assert!(
            got[1..].iter().all(|p| p.contains("NNN_snake_name")),
            "{got:?}"
        );
    }

    #[test]
    fn duplicate_versions_name_both_files() {
        let got = problems(&[("1_a.up.sql", "select 1;"), ("001_b.up.sql", "select 1;")]);
        assert_eq!(got.len(), 2);
        assert!(got[0].contains("duplicate version 1"));
        assert!(got[0].contains("dir/1_a.up.sql") && got[0].contains("dir/001_b.up.sql"));
    }

    #[test]
    fn down_or_verify_without_up_is_an_error() {
        let got = problems(&[
            ("005_gone.down.sql", "select 1;"),
            ("006_x.up.sql", "select 1;"),
            ("006_y.verify.sql", "select 1;"),
        ]);
        assert_eq!(
            got,
            [
                "dir/005_gone.down.sql: has no matching .up.sql file",
                "dir/006_y.verify.sql: its name does not match the up file of its version (dir/006_x.up.sql)",
            ]
        );
    }

    #[test]
    fn unsplittable_sql_is_reported_at_load_time() {
        let got = problems(&[("007_x.up.sql", "select 1;\nselect 'open")]);
        assert_eq!(
            got,
            ["dir/007_x.up.sql: unterminated string literal starting on line 2"]
        );
    }

    #[test]
    fn reads_a_directory_and_ignores_other_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("001_a.up.sql"), "select 1;").unwrap();
        std::fs::write(dir.path().join("README.md"), "notes").unwrap();
        let s = MigrationSet::from_dir(dir.path()).unwrap();
        assert_eq!(s.migrations().len(), 1);
        assert!(s.migrations()[0].up.path.ends_with("001_a.up.sql"));
    }

    #[test]
    fn no_sql_entry_of_a_directory_is_skipped_silently() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        std::fs::write(at("001_a.up.sql"), "select 1;").unwrap();
        std::os::unix::fs::symlink(at("gone.sql"), at("002_dangling.up.sql")).unwrap();
        std::os::unix::fs::symlink(at("003_loop.up.sql"), at("003_loop.up.sql")).unwrap();
        std::fs::create_dir(at("004_dir.up.sql")).unwrap();
        std::fs::write(at("005_bom.up.sql"), b"\xEF\xBB\xBFselect 1;").unwrap();
        std::fs::write(at("006_nul.up.sql"), b"select 1;\nselect '\0';").unwrap();
        let got = match MigrationSet::from_dir(dir.path()) {
            Err(SourceError::Invalid { problems, .. }) => problems,
            other => panic!("expected invalid set, got {other:?}"),
        };
        let said = |file: &str| {
            got.iter()
                .find(|p| p.file.ends_with(file))
                .map(|p| p.problem.clone())
                .unwrap_or_else(|| panic!("{file} not reported: {got:?}"))
        };
        assert!(said("002_dangling.up.sql").contains("symbolic link"));
        assert!(said("003_loop.up.sql").contains("symbolic link"));
        assert!(said("004_dir.up.sql").contains("is a directory"));
        assert!(said("005_bom.up.sql").contains("byte order mark"));
        assert!(said("006_nul.up.sql").contains("NUL byte on line 2"));
        assert_eq!(got.len(), 5, "{got:?}");
    }

    #[test]
    fn missing_directory_is_an_io_error_naming_it() {
        let err = MigrationSet::from_dir(Path::new("/nonexistent/mantis")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/mantis"), "{err}");
    }
}
