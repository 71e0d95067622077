//! Reading a verify file into named checks.

use crate::script::Script;

/// How bad a failing check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The suite fails.
    Failure,
    /// Reported, but the suite still passes.
    Warning,
}

/// What a statement of a verify file is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckKind {
    /// Its rows are offending rows.
    Rows,
    /// EXPLAIN of it must use these indexes or relations.
    Plan {
        /// Index or relation names.
        uses: Vec<String>,
    },
    /// Not judged: its rows are shown.
    Report,
}

/// One named statement of a verify file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// Section, e.g. `6 Orphaned records` (empty before the first section line).
    pub section: String,
    /// Check name, e.g. `no stock without product`.
    pub name: String,
    /// 1-based line of the statement in its file.
    pub line: usize,
    /// What it is.
    #[serde(flatten)]
    pub kind: CheckKind,
    /// How bad a failure is.
    pub severity: Severity,
    /// Part of the drift check run before migrating up. Checks of the data
    /// rather than the schema (data legitimately changes after a migration),
    /// and checks that write or take locks routine work would wait for, opt
    /// out with `-- drift-check: skip`: under a section line for the whole
    /// section, under a check line for that check.
    pub drift: bool,
    /// `-- on-conflict: skip`: the check does what other sessions also do
    /// (e.g. refresh a view); when it collides with them (serialization
    /// failure, deadlock, lock timeout) it is skipped, with the reason, rather
    /// than failed.
    pub skip_on_conflict: bool,
    /// Checks of earlier migrations this one replaces (`-- supersedes: 003
    /// check name`): when both migrations are applied, the earlier check is
    /// left out of verify and of the drift check.
    pub supersedes: Vec<Superseded>,
    /// The statement.
    #[serde(skip)]
    pub sql: String,
}

/// A check of an earlier migration that a later one replaces.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Superseded {
    /// The earlier migration's version.
    pub version: u64,
    /// The name of its check.
    pub check: String,
}

/// The checks of one verify file, in file order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Suite {
    /// The verify file, as `origin/name`.
    pub file: String,
    /// Its checks.
    pub checks: Vec<Check>,
}

/// What the comment lines above one statement say.
#[derive(Default)]
struct Tags {
    name: Option<String>,
    report: bool,
    uses: Vec<String>,
    warning: bool,
    drift_skip: bool,
    skip_on_conflict: bool,
    supersedes: Vec<Superseded>,
}

impl Suite {
    /// Names every statement of `script` from the comment lines above it.
    pub fn from_script(script: &Script) -> Suite {
        let lines: Vec<&str> = script.sql.lines().collect();
        let mut section = String::new();
        let mut drift = true;
        let mut after_previous = 0;
        let mut checks = Vec::with_capacity(script.statements.len());
        for statement in &script.statements {
            let above = lines
                .get(after_previous..statement.line.saturating_sub(1))
                .unwrap_or_default();
            let mut tags = Tags::default();
            for line in above.iter().map(|l| l.trim()) {
                if let Some(s) = tagged(line, "section:") {
                    section = s.to_string();
                    drift = true;
                } else if tagged(line, "drift-check:") == Some("skip") {
                    // Under a check line: that check; else: the section.
                    match tags.name {
                        Some(_) => tags.drift_skip = true,
                        None => drift = false,
                    }
                } else {
                    read_tag(line, &mut tags);
                }
            }
            after_previous = statement.line - 1 + statement.sql.lines().count();
            checks.push(check(statement, tags, &section, drift));
        }
        Suite {
            file: script.path.clone(),
            checks,
        }
    }

    /// The checks that belong to the drift check.
    pub fn drift_checks(&self) -> Suite {
        self.only(|c| c.drift)
    }

    /// The suite of migration `version` without the checks that any of
    /// `later` (suites of migrations applied after it) supersedes.
    pub fn without_superseded(&self, version: u64, later: &[&Suite]) -> Suite {
        let replaced = |c: &Check| {
            later.iter().flat_map(|s| &s.checks).any(|l| {
                l.supersedes
                    .iter()
                    .any(|s| s.version == version && s.check == c.name)
            })
        };
        self.only(|c| !replaced(c))
    }

    fn only(&self, keep: impl Fn(&Check) -> bool) -> Suite {
        Suite {
            file: self.file.clone(),
            checks: self.checks.iter().filter(|c| keep(c)).cloned().collect(),
        }
    }
}

fn read_tag(line: &str, tags: &mut Tags) {
    if let Some(n) = tagged(line, "check:") {
        tags.name = Some(n.to_string());
    } else if let Some(n) = tagged(line, "report:") {
        tags.name = Some(n.to_string());
        tags.report = true;
    } else if let Some(list) = tagged(line, "uses:") {
        tags.uses = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
    } else if tagged(line, "severity:") == Some("warning") {
        tags.warning = true;
    } else if tagged(line, "on-conflict:") == Some("skip") {
        tags.skip_on_conflict = true;
    } else if let Some(rest) = tagged(line, "supersedes:") {
        let (version, check) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if let Ok(version) = version.parse() {
            let check = check.trim().to_string();
            tags.supersedes.push(Superseded { version, check });
        }
    }
}

fn check(statement: &crate::split::Statement, tags: Tags, section: &str, drift: bool) -> Check {
    let kind = if tags.report {
        CheckKind::Report
    } else if !tags.uses.is_empty() {
        CheckKind::Plan { uses: tags.uses }
    } else {
        CheckKind::Rows
    };
    Check {
        section: section.to_string(),
        name: tags
            .name
            .unwrap_or_else(|| format!("statement at line {}", statement.line)),
        line: statement.line,
        // Reports are information, never drift.
        drift: drift && !tags.drift_skip && kind != CheckKind::Report,
        kind,
        skip_on_conflict: tags.skip_on_conflict,
        supersedes: tags.supersedes,
        severity: if tags.warning {
            Severity::Warning
        } else {
            Severity::Failure
        },
        sql: statement.sql.clone(),
    }
}

fn tagged<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    line.strip_prefix("--")
        .map(str::trim_start)
        .and_then(|rest| rest.strip_prefix(tag))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::ScriptKind;

    #[test]
    fn checks_take_names_and_sections_from_the_comments_above_them() {
        let text = "-- section: 1 Schema\n-- check: tables exist\nSELECT 1\nWHERE false;\n\n\
                    -- check: second\nSELECT 2;\n-- section: 2 Data\n-- drift-check: skip\nSELECT 3;\n";
        let script = Script::parse("v.verify.sql", text, ScriptKind::Verify).unwrap();
        let suite = Suite::from_script(&script);
        let named: Vec<(&str, &str)> = suite
            .checks
            .iter()
            .map(|c| (c.section.as_str(), c.name.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("1 Schema", "tables exist"),
                ("1 Schema", "second"),
                ("2 Data", "statement at line 10")
            ]
        );
        let drift_suite = suite.drift_checks();
        let drift: Vec<&str> = drift_suite.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(drift, ["tables exist", "second"]);
    }

    #[test]
    fn a_check_can_leave_the_drift_check_supersede_and_skip_on_conflict() {
        let text = "-- section: 1 S\n-- check: a\nSELECT 1;\n\
                    -- check: refresh\n-- drift-check: skip\n-- on-conflict: skip\nSELECT 2;\n\
                    -- check: c\nSELECT 3;\n";
        let script = Script::parse("v.verify.sql", text, ScriptKind::Verify).unwrap();
        let suite = Suite::from_script(&script);
        let drift_suite = suite.drift_checks();
        let drift: Vec<&str> = drift_suite.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            drift,
            ["a", "c"],
            "check-level skip leaves the rest of the section"
        );
        assert!(suite.checks[1].skip_on_conflict && !suite.checks[0].skip_on_conflict);
        let later_text =
            "-- check: new rule\n-- supersedes: 3 refresh\n-- supersedes: 3 c\nSELECT 4;\n";
        let later = Script::parse("w.verify.sql", later_text, ScriptKind::Verify).unwrap();
        let later = Suite::from_script(&later);
        assert_eq!(
            later.checks[0].supersedes[0],
            Superseded {
                version: 3,
                check: "refresh".into()
            }
        );
        let kept: Vec<String> = suite
            .without_superseded(3, &[&later])
            .checks
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(kept, ["a"]);
        assert_eq!(suite.without_superseded(2, &[&later]).checks.len(), 3);
    }

    #[test]
    fn plan_checks_reports_and_warnings_are_recognised() {
        let text = "-- check: search uses its index\n-- uses: a_idx, b_idx\nSELECT 1;\n\
                    -- check: coverage\n-- severity: warning\nSELECT 2;\n-- report: summary\nSELECT 3;\n";
        let script = Script::parse("v.verify.sql", text, ScriptKind::Verify).unwrap();
        let checks = Suite::from_script(&script).checks;
        assert_eq!(
            checks[0].kind,
            CheckKind::Plan {
                uses: vec!["a_idx".into(), "b_idx".into()]
            }
        );
        assert_eq!(checks[0].severity, Severity::Failure);
        assert_eq!(checks[1].kind, CheckKind::Rows);
        assert_eq!(checks[1].severity, Severity::Warning);
        assert_eq!(checks[2].kind, CheckKind::Report);
        assert_eq!(checks[2].name, "summary");
        assert!(!checks[2].drift);
    }
}
