//! Suppressions: `-- mantis-lint: allow <rule-id>: <reason>` in the comment
//! lines right above a statement (or inside it) silences that rule for that
//! statement; `-- mantis-lint: allow-file <rule-id>: <reason>` silences it
//! for the whole file. The reason is required, and the rule must exist.

use crate::file::SqlFile;

/// The comment prefix.
pub const PREFIX: &str = "mantis-lint:";

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Suppression {
    /// The rule it silences.
    pub rule: String,
    /// Why (required).
    pub reason: String,
    /// Its 1-based line.
    pub line: usize,
    /// The index of the statement it applies to, if any follows.
    #[serde(skip)]
    pub statement: Option<usize>,
    /// It applies to the whole file (`allow-file`).
    pub file_wide: bool,
}

/// A suppression comment that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// Its 1-based line.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// The file's suppressions, and the comments that look like one but are not.
pub fn read(file: &SqlFile) -> (Vec<Suppression>, Vec<Malformed>) {
    let mut found = Vec::new();
    let mut malformed = Vec::new();
    for (i, text) in file.text.lines().enumerate() {
        let line = i + 1;
        let Some(rest) = comment_body(text) else {
            continue;
        };
        match parse(rest) {
            Ok((rule, reason, file_wide)) => found.push(Suppression {
                rule,
                reason,
                line,
                file_wide,
                statement: file
                    .statements
                    .iter()
                    .find(|s| s.end_line() >= line)
                    .map(|s| s.index),
            }),
            Err(problem) => malformed.push(Malformed { line, problem }),
        }
    }
    (found, malformed)
}

fn comment_body(line: &str) -> Option<&str> {
    let at = line.find("--")?;
    line[at + 2..]
        .trim_start()
        .strip_prefix(PREFIX)
        .map(str::trim)
}

fn parse(rest: &str) -> Result<(String, String, bool), String> {
    let usage = "write `-- mantis-lint: allow <rule-id>: <reason>` (or allow-file)";
    let (rest, file_wide) = if let Some(r) = rest.strip_prefix("allow-file ") {
        (r, true)
    } else if let Some(r) = rest.strip_prefix("allow ") {
        (r, false)
    } else {
        return Err(format!("unknown lint directive; {usage}"));
    };
    let (rule, reason) = rest.split_once(':').unwrap_or((rest, ""));
    let rule = rule.trim();
    if crate::rules::find(rule).is_none() {
        return Err(format!(
            "`{rule}` is not a rule (`mantis lint --rules` lists them); {usage}"
        ));
    }
    let reason = reason.trim();
    if reason.len() < 10 {
        return Err(format!(
            "suppressing {rule} needs a reason that says why the hazard does not apply here; \
             {usage}"
        ));
    }
    Ok((rule.to_string(), reason.to_string(), file_wide))
}
