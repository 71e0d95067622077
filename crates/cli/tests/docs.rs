//! Docs are claims: every command in a ```console block of README.md,
//! docs/*.md and docs/adr/*.md is run, block by block, each block on a fresh database, and must
//! succeed. (`scripts/test` is the command running this very test; it is the
//! one line skipped.)

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use mantis_testkit::TestDb;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    for dir in [root.join("docs"), root.join("docs/adr")] {
        if let Ok(entries) = std::fs::read_dir(dir) {
            files.extend(
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "md")),
            );
        }
    }
    files.sort();
    files
}

/// Command lines (`$ …`) of each console block.
fn console_blocks(text: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```console") => current = Some(Vec::new()),
            (Some(_), l) if l.starts_with("```") => blocks.extend(current.take()),
            (Some(block), l) if l.starts_with("$ ") => block.push(l[2..].to_string()),
            _ => {}
        }
    }
    blocks
}

/// Commands in ```sh blocks must at least be runnable scripts of the repo.
fn sh_commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with("```sh") {
            inside = true;
        } else if l.starts_with("```") {
            inside = false;
        } else if inside && !l.is_empty() {
            out.push(l.to_string());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_command_runs() {
    let root = repo_root();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mantis"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut jobs = Vec::new();
    for doc in documents(&root) {
        let text = std::fs::read_to_string(&doc).unwrap();
        let mut blocks = console_blocks(&text);
        blocks.push(
            sh_commands(&text)
                .into_iter()
                .filter(|c| c != "scripts/test")
                .collect(),
        );
        for block in blocks.into_iter().filter(|b| !b.is_empty()) {
            jobs.push((doc.clone(), block, TestDb::empty("docs").await));
        }
    }
    let ran: usize = jobs.iter().map(|(_, block, _)| block.len()).sum();
    // Blocks are independent (each has its own database): run a few at once.
    for batch in jobs.chunks(4) {
        std::thread::scope(|scope| {
            for (doc, block, db) in batch {
                let (root, path) = (&root, &path);
                scope.spawn(move || run_block(root, path, doc, block, &db.url()));
            }
        });
    }
    assert!(
        ran >= 10,
        "expected the documented commands to run, ran {ran}"
    );
}

/// A documented line as the test runs it: `scripts/bench` (minutes, and it
/// rewrites docs/BENCHMARKS.md) runs in its smoke mode into a scratch file;
/// `cargo install` installs a debug build (from the tests' own build) into a
/// scratch directory, whose `mantis` must then run.
fn as_run(line: &str) -> String {
    if line.starts_with("scripts/bench") {
        format!("{line} --smoke --out \"$(mktemp -u /tmp/mantis-bench-XXXXXX.md)\"")
    } else if line.starts_with("cargo install") {
        format!(
            "root=\"$(mktemp -d)\" && CARGO_TARGET_DIR=target {line} --debug --root \"$root\" \
             && \"$root/bin/mantis\" --version && rm -rf \"$root\""
        )
    } else {
        line.to_string()
    }
}

/// Runs a block's lines in order; each must succeed.
fn run_block(root: &Path, path: &str, doc: &Path, block: &[String], url: &str) {
    for line in block {
        let out = Command::new("bash")
            .args(["-c", &as_run(line)])
            .current_dir(root)
            .env("PATH", path)
            .env("DATABASE_URL", url)
            .env("PGPASSFILE", "/nonexistent")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: `{line}` failed\n--- stdout\n{}\n--- stderr\n{}",
            doc.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn quick_start_is_exactly_two_commands_and_ci_runs_the_second() {
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let quick = readme
        .split("## Quick start")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let commands = sh_commands(quick);
    assert_eq!(commands, ["scripts/mantis demo", "scripts/test"]);
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == "scripts/test"),
        ".ci/run must call the README's test command"
    );
}
