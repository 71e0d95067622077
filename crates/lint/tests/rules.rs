//! Every rule has an ok and an err fixture (tests/data/{ok,err}/<rule>.sql):
//! the err fixture is flagged by its rule exactly on the lines marked
//! `-- expect: <rule>`, and the ok fixture not at all.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use std::collections::BTreeSet;
use std::path::Path;

use mantis_lint::{lint, rules, Options};

fn fixture(kind: &str, id: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(kind)
        .join(format!("{id}.sql"));
    std::fs::read_to_string(path).ok()
}

/// Lines where `rule` is found when the fixture is linted on its own, with
/// the runner setting no lock_timeout (so that rule can be tested too).
fn flagged(id: &str, text: &str) -> BTreeSet<usize> {
    let options = Options {
        runner_sets_lock_timeout: false,
        ..Options::default()
    };
    let report = lint(&[(format!("{id}.sql"), text.to_string())], &options);
    report
        .findings
        .iter()
        .filter(|f| f.rule == id)
        .map(|f| f.line)
        .collect()
}

fn expected(id: &str, text: &str) -> BTreeSet<usize> {
    let marker = format!("-- expect: {id}");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(&marker))
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn every_rule_flags_its_err_fixture_on_the_marked_lines_and_not_its_ok_fixture() {
    let mut problems = Vec::new();
    for rule in rules::ALL {
        let (Some(err), Some(ok)) = (fixture("err", rule.id), fixture("ok", rule.id)) else {
            problems.push(format!("{}: missing ok or err fixture", rule.id));
            continue;
        };
        let want = expected(rule.id, &err);
        if want.is_empty() {
            problems.push(format!("{}: err fixture marks no line", rule.id));
        }
        let got = flagged(rule.id, &err);
        if got != want {
            problems.push(format!(
                "{}: err fixture flagged at {got:?}, expected {want:?}",
                rule.id
            ));
        }
        let wrong = flagged(rule.id, &ok);
        if !wrong.is_empty() {
            problems.push(format!("{}: ok fixture flagged at {wrong:?}", rule.id));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_rule_is_documented_with_its_hazard_safe_form_and_a_flagged_example() {
    let mut ids = BTreeSet::new();
    for rule in rules::ALL {
        assert!(ids.insert(rule.id), "{} is registered twice", rule.id);
        assert!(
            rule.hazard.len() > 40 && rule.safe.len() > 20,
            "{}: say more",
            rule.id
        );
        let options = Options {
            runner_sets_lock_timeout: false,
            ..Options::default()
        };
        let name = if rule.example.starts_with("-- validate") {
            "validate_example.sql"
        } else {
            "example.sql"
        };
        let report = lint(&[(name.to_string(), rule.example.to_string())], &options);
        assert!(
            report.findings.iter().any(|f| f.rule == rule.id),
            "{}: its docs example is not flagged by it: {:?}",
            rule.id,
            report.findings
        );
    }
}

/// LINT-CASES.md's classes (sections A and B), each with the rule that finds it.
const CLASSES: &[(&str, &str)] = &[
    ("volatile-index-predicate", "volatile-index-predicate"),
    ("raise-outside-plpgsql", "raise-outside-plpgsql"),
    ("concurrently-in-transaction", "concurrently-in-transaction"),
    (
        "refresh-concurrently-needs-unique",
        "refresh-concurrently-needs-unique",
    ),
    ("constraint-before-backfill", "constraint-before-backfill"),
    ("fk-over-dirty-column", "fk-over-dirty-column"),
    ("unqualified-regclass", "unqualified-regclass"),
    ("swallowed-error", "swallowed-error"),
    ("default-defeats-backfill", "default-defeats-backfill"),
    ("backfill-from-new-table", "backfill-from-new-table"),
    ("silent-conflict-drop", "silent-conflict-drop"),
    ("view-before-backfill", "view-before-backfill"),
    ("assumed-constraint-name", "assumed-constraint-name"),
    ("cascade-into-audit", "cascade-into-audit"),
    ("drop-type-cascade", "drop-cascade"),
    ("overwrite-backup", "overwrite-backup"),
    ("unlocked-read-modify-write", "unlocked-read-modify-write"),
    ("null-as-zero-in-average", "null-as-zero-in-average"),
    ("low-precision-money", "low-precision-money"),
    ("validation-writes", "validation-writes"),
    ("validation-cannot-fail", "validation-cannot-fail"),
    ("bytes-format-on-money", "bytes-format-on-money"),
];

#[test]
fn every_class_of_lint_cases_has_a_rule_with_an_err_fixture() {
    for (class, rule) in CLASSES {
        assert!(rules::find(rule).is_some(), "{class}: no rule {rule}");
        assert!(fixture("err", rule).is_some(), "{class}: no err fixture");
    }
    // When the shared notes are beside the checkout, their tables list no class we miss.
    let notes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/LINT-CASES.md");
    if let Ok(text) = std::fs::read_to_string(notes) {
        for line in text
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| id"))
        {
            let id = line.split('|').nth(1).unwrap_or("").trim();
            if id.is_empty() || id.starts_with('-') {
                continue;
            }
            assert!(
                CLASSES.iter().any(|(c, _)| c == &id),
                "LINT-CASES.md class {id} has no rule"
            );
        }
    }
}

#[test]
fn docs_lint_md_lists_every_rule_with_its_severity_hazard_safe_form_and_example() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/lint.md");
    let docs = std::fs::read_to_string(path).expect("docs/lint.md");
    let headings = docs.lines().filter(|l| l.starts_with("#### `")).count();
    assert_eq!(headings, rules::ALL.len(), "one entry per rule, no more");
    for rule in rules::ALL {
        let entry = format!(
            "#### `{}` ({})\n\n{}\n\nSafe form: {}\n\n```sql\n{}\n```\n",
            rule.id,
            rule.severity.as_str(),
            rule.hazard,
            rule.safe,
            rule.example
        );
        assert!(
            docs.contains(&entry),
            "docs/lint.md lacks, or has another text for:\n{entry}"
        );
    }
}

#[test]
fn a_file_that_cannot_even_be_split_is_reported_not_passed_over() {
    let report = lint(
        &[(
            "x.sql".to_string(),
            "SELECT 1;\nSELECT 'oops;\n".to_string(),
        )],
        &Options::default(),
    );
    let refused: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "runner-refuses")
        .collect();
    assert_eq!(refused.len(), 1, "{:?}", report.findings);
    assert!(
        refused[0].message.contains("unterminated"),
        "{}",
        refused[0].message
    );
    assert_eq!(refused[0].line, 2);
}

#[test]
fn positions_count_characters_not_bytes() {
    let text = "-- café, crème, ß\nCREATE INDEX i ON t (c) WHERE note <> 'é' AND c > now();\n";
    let report = lint(
        &[("x.sql".to_string(), text.to_string())],
        &Options::default(),
    );
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "volatile-index-predicate")
        .expect("now() is found");
    assert_eq!((f.line, f.column), (2, 51), "{f:?}");
}

#[test]
fn a_do_block_that_returns_early_is_still_read() {
    let text = "DO $$\nBEGIN\n    IF true THEN RETURN; END IF;\n    UPDATE t SET a = 1;\nEXCEPTION WHEN others THEN NULL;\nEND $$;\n";
    let report = lint(
        &[("x.sql".to_string(), text.to_string())],
        &Options::default(),
    );
    let lines: Vec<usize> = report
        .findings
        .iter()
        .filter(|f| f.rule == "swallowed-error")
        .map(|f| f.line)
        .collect();
    assert_eq!(lines, [5], "{:?}", report.findings);
}
