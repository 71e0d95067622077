//! mantis.toml: found from the working directory upward, it sets a team's
//! defaults; each setting's environment variable overrides it, and its flag
//! overrides both.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use common::{mantis, Dir, Run};
use mantis_testkit::TestDb;

/// mantis.toml, found from the working directory upward, sets the defaults;
/// the environment overrides it and a flag overrides both.
#[test]
fn settings_come_from_the_flag_then_the_environment_then_mantis_toml() {
    let dir = Dir::with(&[(
        "mantis.toml",
        "[migrations]\ndir = \"db\"\n\n[run]\nlock_timeout = \"0\"\n\n\
         [lint]\nfail_on = \"warning\"\n\n[lint.severity]\nwhole-table-update = \"off\"\n",
    )]);
    std::fs::create_dir_all(dir.file("db/nested")).unwrap();
    dir.write(
        "db/001_a.up.sql",
        "CREATE INDEX products_brand ON core.products (brand_id);\n\
         UPDATE core.products SET note = '';\n",
    );
    let in_dir = |envs: &[(&str, &str)], args: &[&str]| {
        let mut cmd = mantis();
        cmd.current_dir(dir.file("db/nested"))
            .arg("lint")
            .args(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        Run::from(cmd.output().unwrap())
    };
    // The file: its directory is linted, warnings fail, a rule is off, and
    // lock_timeout = 0 means the runner sets none.
    let out = in_dir(&[], &["--format", "json"]).expect_code(9).json();
    let rules: Vec<&str> = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"index-without-concurrently"), "{rules:?}");
    assert!(rules.contains(&"lock-timeout-missing"), "{rules:?}");
    assert!(!rules.contains(&"whole-table-update"), "{rules:?}");
    // The environment over the file; the flag over both.
    in_dir(&[("MANTIS_LINT_FAIL_ON", "error")], &[]).expect_code(0);
    in_dir(
        &[("MANTIS_LINT_FAIL_ON", "error")],
        &["--fail-on", "warning"],
    )
    .expect_code(9);
    let on = in_dir(&[("MANTIS_LINT_RULES", "whole-table-update=error")], &[]).expect_code(9);
    assert!(
        on.stdout.contains("error[whole-table-update]"),
        "{}",
        on.stdout
    );
    // A broken project file is refused, naming it.
    dir.write("mantis.toml", "[lint]\nfail_on = \"sometimes\"\n");
    let bad = in_dir(&[], &[]).expect_code(2);
    assert!(
        bad.stderr.contains("mantis.toml") && bad.stderr.contains("fail_on"),
        "{}",
        bad.stderr
    );
}

/// The lock_timeout a migration statement runs under comes from the flag,
/// else MANTIS_LOCK_TIMEOUT, else `[run] lock_timeout`.
#[tokio::test]
async fn the_run_timeouts_come_from_the_flag_then_the_environment_then_mantis_toml() {
    let dir = Dir::with(&[(
        "mantis.toml",
        "[migrations]\ndir = \"db\"\n\n[run]\nlock_timeout = \"1234ms\"\n",
    )]);
    std::fs::create_dir_all(dir.file("db")).unwrap();
    dir.write(
        "db/001_seen.up.sql",
        "CREATE TABLE public.seen AS SELECT current_setting('lock_timeout') AS lock_timeout;\n",
    );
    let seen = |envs: &[(&str, &str)], flags: &[&str]| {
        let envs: Vec<(String, String)> = envs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        let path = dir.path().to_path_buf();
        async move {
            let db = TestDb::empty("project_run").await;
            let mut cmd = mantis();
            cmd.current_dir(&path)
                .args(["--database-url", &db.url(), "up"])
                .args(&flags);
            for (k, v) in &envs {
                cmd.env(k, v);
            }
            Run::from(cmd.output().unwrap()).expect_code(0);
            common::scalar(&db, "SELECT lock_timeout FROM public.seen").await
        }
    };
    assert_eq!(seen(&[], &[]).await, "1234ms");
    assert_eq!(seen(&[("MANTIS_LOCK_TIMEOUT", "2s")], &[]).await, "2s");
    assert_eq!(
        seen(&[("MANTIS_LOCK_TIMEOUT", "2s")], &["--lock-timeout", "3s"]).await,
        "3s"
    );
}
