//! The migrations mantis ships lint clean: every hazard lint finds in them
//! is either absent or suppressed with a stated reason.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use mantis_lint::{lint, Options};

fn embedded() -> Vec<(String, String)> {
    let set = mantis_schema::migrations().expect("the embedded set loads");
    let mut files = Vec::new();
    for m in set.migrations() {
        for script in [Some(&m.up), m.down.as_ref(), m.verify.as_ref()]
            .into_iter()
            .flatten()
        {
            files.push((script.path.clone(), script.sql.clone()));
        }
    }
    files
}

#[test]
fn the_embedded_migrations_lint_clean() {
    let files = embedded();
    assert!(
        files.len() >= 9,
        "001, 003 and 004: up, down and verify each"
    );
    let options = Options {
        allow: mantis_lint::allow::parse(mantis_schema::LINT_ALLOW).expect("lint-allow.toml reads"),
        ..Options::default()
    };
    let report = lint(&files, &options);
    let listed: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{} {} {}",
                f.file, f.line, f.column, f.rule, f.message
            )
        })
        .collect();
    assert!(listed.is_empty(), "{}", listed.join("\n"));
    for s in &report.suppressed {
        assert!(s.reason.len() >= 10, "{}: {}", s.finding.rule, s.reason);
    }
}

#[test]
fn every_accepted_hazard_still_occurs() {
    let allow =
        mantis_lint::allow::parse(mantis_schema::LINT_ALLOW).expect("lint-allow.toml reads");
    let report = lint(&embedded(), &Options::default());
    for a in &allow {
        assert!(
            report.findings.iter().any(|f| a.accepts(f)),
            "lint-allow.toml accepts {} in {}, which lint no longer finds: remove the entry",
            a.rule,
            a.file
        );
    }
}
