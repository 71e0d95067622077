//! Helpers for end-to-end tests: run the real `mantis` binary against a fresh
//! database and check exit code, stdout and stderr separately.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use mantis_testkit::TestDb;

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Collects a finished process's exit code and streams.
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A `mantis` command with a clean environment (no DATABASE_URL or PG* leaks).
pub fn mantis() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mantis"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PG")
            || key == "DATABASE_URL"
            || key == "NEON_TARGET_URL"
            || key == "MANTIS_DIRECT_URL"
        {
            cmd.env_remove(key);
        }
    }
    cmd.env("PGPASSFILE", "/nonexistent").stdin(Stdio::null());
    cmd
}

/// Runs `mantis --database-url <db> ARGS`.
pub fn run(db: &TestDb, args: &[&str]) -> Run {
    run_url(&db.url(), args)
}

/// Runs `mantis --database-url URL ARGS`.
pub fn run_url(url: &str, args: &[&str]) -> Run {
    Run::from(
        mantis()
            .arg("--database-url")
            .arg(url)
            .args(args)
            .output()
            .expect("run mantis"),
    )
}

/// Starts `mantis --database-url <db> ARGS` without waiting.
pub fn spawn(db: &TestDb, args: &[&str]) -> Child {
    mantis()
        .arg("--database-url")
        .arg(db.url())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mantis")
}

/// Starts `mantis up --source DIR` with a short lock_timeout and a number of
/// retries, without waiting: a run meant to meet a lock held by the test.
pub fn spawn_up_retrying(db: &TestDb, dir: &Dir, lock_timeout: &str, retries: &str) -> Child {
    let source = dir.arg();
    let args = ["up", "--source", &source, "--lock-timeout", lock_timeout];
    let mut args = args.to_vec();
    args.extend(["--lock-retries", retries]);
    spawn(db, &args)
}

/// Of concurrent runs of `up`: how many applied `n` migrations, and how
/// many found the database already up to date at `version` (e.g. "003").
pub fn applied_or_up_to_date(runs: &[Run], n: usize, version: &str) -> (usize, usize) {
    let applied = format!("applied {n} migration(s)");
    let up_to_date = format!("up to date: the database is at version {version}");
    let count = |text: &str| runs.iter().filter(|r| r.stdout.contains(text)).count();
    (count(&applied), count(&up_to_date))
}

/// Waits for a spawned run.
pub fn finish(child: Child) -> Run {
    Run::from(child.wait_with_output().expect("wait for mantis"))
}

/// Two migrations: 001 makes `t (id int PRIMARY KEY, v int)` with `rows`
/// rows; 002, a no-transaction file, runs `before` (SQL, may be empty) and
/// then sets `v = id` in batches of at most `batch` rows.
#[allow(dead_code)] // not every test binary uses every helper
pub fn backfill_dir(rows: u32, before: &str, batch: u32) -> Dir {
    Dir::with(&[
        (
            "001_t.up.sql",
            &format!(
                "CREATE TABLE t (id int PRIMARY KEY, v int);\n\
                 INSERT INTO t (id) SELECT generate_series(1, {rows});"
            ),
        ),
        (
            "002_backfill.up.sql",
            &format!(
                "-- mantis: no-transaction\n{before}\n\
                 -- mantis: batch table=public.t key=id rows={batch} time=5000ms\n\
                 UPDATE t SET v = id\n\
                 WHERE id BETWEEN current_setting('mantis.batch_first')::int\n\
                              AND current_setting('mantis.batch_last')::int;"
            ),
        ),
    ])
}

/// A temporary migration directory.
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    /// A directory holding the given files.
    pub fn with(files: &[(&str, &str)]) -> Dir {
        let dir = Dir {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        for (name, text) in files {
            dir.write(name, text);
        }
        dir
    }

    pub fn write(&self, name: &str, text: &str) {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the file's directory");
        }
        std::fs::write(path, text).expect("write migration");
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn arg(&self) -> String {
        self.dir.path().display().to_string()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Runs a query returning one text value (NULL as "NULL").
pub async fn scalar(db: &TestDb, sql: &str) -> String {
    let client = db.client().await;
    let row = client
        .query_one(&format!("SELECT ({sql})::text"), &[])
        .await
        .expect(sql);
    row.get::<_, Option<String>>(0)
        .unwrap_or_else(|| "NULL".into())
}

/// `SELECT count(*)` of a table or query, as a number.
pub async fn count(db: &TestDb, from: &str) -> i64 {
    scalar(db, &format!("SELECT count(*) FROM {from}"))
        .await
        .parse()
        .expect("count")
}

/// Whether a relation exists.
pub async fn exists(db: &TestDb, relation: &str) -> bool {
    scalar(db, &format!("SELECT to_regclass('{relation}') IS NOT NULL")).await == "true"
}

/// A dump of the schema objects and history, to compare "before" and "after".
pub async fn fingerprint(db: &TestDb) -> String {
    let objects = scalar(
        db,
        "SELECT coalesce(string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text, ',' ORDER BY 1), '') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
    )
    .await;
    let history = if exists(db, "mantis.schema_migrations").await {
        scalar(db, "SELECT string_agg(version::text || checksum, ',' ORDER BY version) FROM mantis.schema_migrations").await
    } else {
        "-".to_string()
    };
    format!("{objects}|{history}")
}

/// The line a passing `mantis verify` ends with.
pub const SUCCESS_LINE: &str = "MIGRATION SUCCESSFUL - ALL VALIDATIONS PASSED";

/// A small seeded catalogue: enough dirt for every rule, fast to clone.
pub fn small_spec() -> mantis_testkit::Spec {
    mantis_testkit::Spec {
        products: 400,
        ..mantis_testkit::Spec::default()
    }
}

/// Makes every later DDL statement of kind `tag` (e.g. `CREATE MATERIALIZED
/// VIEW`) fail, with an event trigger: a way to stop a migration part-way
/// that its footprint check cannot see coming. Undone by [`allow_ddl`].
pub async fn refuse_ddl(db: &TestDb, tag: &str) {
    let sql = format!(
        "CREATE FUNCTION public.mantis_test_refuse() RETURNS event_trigger LANGUAGE plpgsql \
         AS $$ BEGIN RAISE EXCEPTION 'test: % refused', tg_tag; END $$; \
         CREATE EVENT TRIGGER mantis_test_refuse ON ddl_command_start \
         WHEN TAG IN ('{tag}') EXECUTE FUNCTION public.mantis_test_refuse()"
    );
    db.client()
        .await
        .batch_execute(&sql)
        .await
        .expect("event trigger");
}

/// Undoes [`refuse_ddl`].
pub async fn allow_ddl(db: &TestDb) {
    db.client()
        .await
        .batch_execute(
            "DROP EVENT TRIGGER mantis_test_refuse; DROP FUNCTION public.mantis_test_refuse()",
        )
        .await
        .expect("drop event trigger");
}
