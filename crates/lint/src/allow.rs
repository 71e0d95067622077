//! Suppressions kept outside the SQL: for files whose bytes must not
//! change (an applied up file is checksummed), a team lists accepted
//! hazards in its project file, each with its reason:
//!
//! ```toml
//! [[lint.allow]]
//! file = "003_critical_schema_fixes.up.sql"   # the file's name
//! line = 182                                  # optional: one statement's finding
//! rule = "many-tables-locked"
//! reason = "why the hazard does not apply here"
//! ```

use serde::Deserialize;

use crate::finding::Finding;

/// One accepted hazard.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// The file's name (its last path component).
    pub file: String,
    /// The finding's line; every finding of the rule in the file when absent.
    #[serde(default)]
    pub line: Option<usize>,
    /// The rule.
    pub rule: String,
    /// Why (required, at least 10 characters).
    pub reason: String,
}

impl Allow {
    /// Whether it accepts this finding.
    pub fn accepts(&self, finding: &Finding) -> bool {
        let name = finding.file.rsplit('/').next().unwrap_or(&finding.file);
        name == self.file
            && finding.rule == self.rule
            && self.line.is_none_or(|l| l == finding.line)
    }
}

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    lint: Section,
}

#[derive(Deserialize, Default)]
struct Section {
    #[serde(default)]
    allow: Vec<Allow>,
}

/// Reads the `[[lint.allow]]` entries of a TOML document (other tables are
/// ignored).
///
/// # Errors
/// A message naming what is wrong: bad TOML, an unknown rule, a missing reason.
pub fn parse(text: &str) -> Result<Vec<Allow>, String> {
    let doc: Document = toml::from_str(text).map_err(|e| e.to_string())?;
    for a in &doc.lint.allow {
        if crate::rules::find(&a.rule).is_none() {
            return Err(format!(
                "[[lint.allow]] for {}: `{}` is not a rule",
                a.file, a.rule
            ));
        }
        if a.reason.trim().len() < 10 {
            return Err(format!(
                "[[lint.allow]] {} in {}: the reason must say why the hazard does not apply",
                a.rule, a.file
            ));
        }
    }
    Ok(doc.lint.allow)
}
