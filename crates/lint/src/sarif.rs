//! SARIF 2.1.0 output, for code-scanning tools (GitHub code scanning,
//! GitLab, Azure DevOps): one run, every rule as a reporting descriptor,
//! every finding as a result with its physical location.

use serde_json::{json, Value};

use crate::finding::Severity;
use crate::{rules, Report};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn descriptor(rule: &rules::Rule) -> Value {
    json!({
        "id": rule.id,
        "name": rule.id,
        "shortDescription": { "text": rule.hazard },
        "fullDescription": { "text": format!("{} Safe form: {}", rule.hazard, rule.safe) },
        "help": { "text": format!("{}\n\nExample:\n{}", rule.safe, rule.example) },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": { "tags": [rule.family.as_str()] },
    })
}

/// The report as one SARIF 2.1.0 log. `version` is the tool's version.
pub fn to_sarif(report: &Report, version: &str) -> Value {
    let ids: Vec<&str> = rules::ALL.iter().map(|r| r.id).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule,
                "ruleIndex": ids.iter().position(|id| *id == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.file },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "snippet": { "text": f.excerpt },
                        },
                    },
                }],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "mantis-lint",
                    "version": version,
                    "informationUri": "https://example.invalid/mantis/docs/lint.md",
                    "rules": rules::ALL.iter().map(|r| descriptor(r)).collect::<Vec<_>>(),
                },
            },
            "results": results,
        }],
    })
}
