//! SARIF output is valid SARIF 2.1.0: checked against OASIS's published
//! JSON schema (tests/data/sarif-schema-2.1.0.json, the schema of the SARIF
//! 2.1.0 standard, `$id` https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json).

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use mantis_lint::{lint, rules, sarif, Options};

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let files: Vec<(String, String)> = rules::ALL
        .iter()
        .map(|r| (format!("{}.sql", r.id), r.example.to_string()))
        .collect();
    let report = lint(&files, &Options::default());
    assert!(
        report.findings.len() >= rules::ALL.len() - 2,
        "the examples are flagged"
    );
    let log = sarif::to_sarif(&report, "0.1.0");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings.len());
    let first = &results[0];
    let rule_index = first["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"][rule_index]["id"], first["ruleId"],
        "ruleIndex points at the result's rule"
    );
    // A result that breaks the schema is caught: the check can fail.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
}
