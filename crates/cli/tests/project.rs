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

/// A `mantis.toml` that is a directory, or a link that leads nowhere, is
/// refused naming it (it was passed over, and a file further up, or none,
/// was used instead).
#[test]
fn a_project_file_that_is_not_a_file_is_refused() {
    let dir = Dir::with(&[("outer/mantis.toml", "[lint]\nfail_on = \"warning\"\n")]);
    std::fs::create_dir_all(dir.file("outer/inner/mantis.toml")).unwrap();
    let lint_in = |at: &str| {
        Run::from(
            mantis()
                .current_dir(dir.file(at))
                .args(["lint", "--rules"])
                .output()
                .unwrap(),
        )
    };
    let out = lint_in("outer/inner").expect_code(2);
    assert!(
        out.stderr.contains("inner/mantis.toml: is a directory"),
        "{}",
        out.stderr
    );
    std::fs::create_dir_all(dir.file("linked")).unwrap();
    std::os::unix::fs::symlink(dir.file("nowhere.toml"), dir.file("linked/mantis.toml")).unwrap();
    let out = lint_in("linked").expect_code(2);
    assert!(
        out.stderr
            .contains("linked/mantis.toml: is a symbolic link that cannot be followed"),
        "{}",
        out.stderr
    );
}

/// `--source` at a directory whose migrations lie in subdirectories (one
/// directory per migration, as some tools lay them out) is refused (exit 4)
/// before connecting, naming what lies below; it did nothing and succeeded.
/// A file numbered 0 is told why it is refused.
#[test]
fn a_source_without_migrations_and_a_version_zero_are_named() {
    let dir = Dir::with(&[
        (
            "prisma/20210101_init/migration.sql",
            "CREATE TABLE t (id int);",
        ),
        ("zero/00_init.up.sql", "CREATE TABLE t (id int);"),
    ]);
    let up = |source: &str| {
        Run::from(
            mantis()
                .args(["--database-url", "postgresql://nobody@127.0.0.1:9/none"])
                .args(["up", "--source", &dir.file(source).display().to_string()])
                .output()
                .unwrap(),
        )
    };
    let out = up("prisma").expect_code(4);
    assert!(
        out.stderr.contains("no migrations in")
            && out.stderr.contains(
                "1 .sql file(s) lie in its subdirectories (e.g. 20210101_init/migration.sql)"
            ),
        "{}",
        out.stderr
    );
    let out = up("zero").expect_code(4);
    assert!(
        out.stderr.contains("version 0 is reserved"),
        "{}",
        out.stderr
    );
}
