//! `mantis lint` end to end: compiler-style text, exit codes, JSON, SARIF,
//! suppressions and rule levels, and lock hazards weighed by a live database.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use common::{mantis, run, Dir, Run};
use mantis_testkit::TestDb;

fn lint(args: &[&str]) -> Run {
    Run::from(mantis().arg("lint").args(args).output().unwrap())
}

/// The seed package's style of mistakes in one file, each where the seed put it.
const SEED_STYLE: &str = "\
CREATE TABLE IF NOT EXISTS core.stock_movements (
    id uuid PRIMARY KEY,
    product_id uuid REFERENCES core.products (id) ON DELETE CASCADE,
    unit_cost numeric(10,2)
);
ALTER TABLE core.suppliers ADD COLUMN payment_terms text DEFAULT 'Net 30';
UPDATE core.suppliers SET payment_terms = COALESCE(payment_terms, metadata->>'terms');
UPDATE core.stock_on_hand s SET cost_price = (SELECT avg(m.unit_cost) FROM core.stock_movements m WHERE m.product_id = s.product_id);
CREATE INDEX idx_recent ON core.stock_movements (id) WHERE unit_cost > 0 AND now() > '2020-01-01';
RAISE NOTICE 'Migration 003 complete';
";

#[test]
fn a_seed_style_file_is_flagged_like_a_compiler_and_exits_9() {
    let dir = Dir::with(&[("003_seed_style.sql", SEED_STYLE)]);
    let out = lint(&[&dir.arg()]).expect_code(9);
    let file = dir.file("003_seed_style.sql").display().to_string();
    for (line, rule) in [
        (3, "cascade-into-audit"),
        (4, "low-precision-money"),
        (7, "default-defeats-backfill"),
        (8, "backfill-from-new-table"),
        (9, "volatile-index-predicate"),
        (10, "raise-outside-plpgsql"),
    ] {
        let head = format!("{file}:{line}:");
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with(&head) && l.contains(&format!("[{rule}]: "))),
            "{rule} at line {line}:\n{}",
            out.stdout
        );
    }
    assert!(out
        .stdout
        .contains("    | RAISE NOTICE 'Migration 003 complete'"));
    assert!(out.stderr.contains("exit 9"), "{}", out.stderr);

    let json = lint(&["--format", "json", &dir.arg()])
        .expect_code(9)
        .json();
    assert!(json["errors"].as_u64().unwrap() >= 5);
    assert_eq!(json["findings"][0]["file"], file.as_str());

    let sarif = lint(&["--format", "sarif", &dir.arg()])
        .expect_code(9)
        .json();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["runs"][0]["results"].as_array().unwrap().len() >= 6);
}

#[test]
fn levels_suppressions_and_fail_on_decide_the_exit_code() {
    let warning_only = "CREATE INDEX products_brand ON core.products (brand_id);\n";
    let dir = Dir::with(&[("a.sql", warning_only)]);
    lint(&[&dir.arg()]).expect_code(0);
    lint(&["--fail-on", "warning", &dir.arg()]).expect_code(9);
    lint(&[
        "--fail-on",
        "warning",
        "--rule",
        "index-without-concurrently=off",
        &dir.arg(),
    ])
    .expect_code(0);
    let err = lint(&["--rule", "no-such-rule=off", &dir.arg()]).expect_code(2);
    assert!(err.stderr.contains("no-such-rule"), "{}", err.stderr);

    let accepted = "-- mantis-lint: allow index-without-concurrently: core.products is empty until the import job runs\n\
                    CREATE INDEX products_brand ON core.products (brand_id);\n";
    let dir = Dir::with(&[("a.sql", accepted)]);
    let json = lint(&["--fail-on", "warning", "--format", "json", &dir.arg()])
        .expect_code(0)
        .json();
    assert_eq!(json["suppressed"][0]["rule"], "index-without-concurrently");
    assert!(json["suppressed"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("import job"));

    let reasonless = "-- mantis-lint: allow index-without-concurrently\n\
                      CREATE INDEX products_brand ON core.products (brand_id);\n";
    let dir = Dir::with(&[("a.sql", reasonless)]);
    let out = lint(&[&dir.arg()]).expect_code(9);
    assert!(
        out.stdout.contains("error[bad-suppression]"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_embedded_migrations_lint_clean_and_the_rules_are_listed() {
    let out = lint(&[]).expect_code(0);
    assert!(
        out.stdout.contains("0 error(s), 0 warning(s)"),
        "{}",
        out.stdout
    );
    let rules = lint(&["--rules", "--format", "json"]).expect_code(0).json();
    let rules = rules.as_array().unwrap();
    assert!(rules.iter().any(|r| r["family"] == "locks"));
    assert!(rules.iter().any(|r| r["family"] == "correctness"));
    let refused = Run::from(
        mantis()
            .args(["status", "--format", "sarif"])
            .output()
            .unwrap(),
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
}

#[tokio::test]
async fn with_a_database_lock_hazards_name_the_table_size_and_empty_tables_are_downgraded() {
    let db = TestDb::empty("lint_weigh").await;
    db.client()
        .await
        .batch_execute(
            "CREATE SCHEMA core;
             CREATE TABLE core.products (id int PRIMARY KEY, brand_id int);
             INSERT INTO core.products SELECT g, g % 7 FROM generate_series(1, 20000) g;
             ANALYZE core.products;
             CREATE TABLE core.brand (id int PRIMARY KEY, code text);",
        )
        .await
        .unwrap();
    let dir = Dir::with(&[(
        "a.sql",
        "CREATE INDEX products_brand ON core.products (brand_id);\n\
         CREATE INDEX brand_code ON core.brand (code);\n\
         CREATE INDEX later_code ON core.later (code);\n",
    )]);
    let json = run(&db, &["lint", "--format", "json", &dir.arg()])
        .expect_code(0)
        .json();
    let findings = json["findings"].as_array().unwrap();
    let on = |table: &str| {
        findings
            .iter()
            .find(|f| f["table"] == table && f["rule"] == "index-without-concurrently")
            .unwrap_or_else(|| panic!("no finding on {table}: {findings:?}"))
    };
    let products = on("core.products");
    assert_eq!(products["weight"]["rows"], 20000);
    assert!(products["message"]
        .as_str()
        .unwrap()
        .contains("[core.products: 20.0k rows, "));
    assert_eq!(products["severity"], "warning");
    assert!(products.get("downgraded").is_none());
    let brand = on("core.brand");
    assert_eq!(brand["severity"], "info");
    assert!(brand["downgraded"].as_str().unwrap().contains("empty"));
    assert_eq!(on("core.later")["severity"], "info");
}

/// A plain set: 001 makes a table with rows; 002 adds a column with a
/// DEFAULT, then backfills it with COALESCE (data lost: an error) and builds
/// an index without CONCURRENTLY (a lock hazard on 5,000 rows).
fn lossy_set() -> Dir {
    Dir::with(&[
        (
            "001_base.up.sql",
            "CREATE TABLE public.supplier (id int PRIMARY KEY, metadata jsonb, region text);\n\
             INSERT INTO public.supplier SELECT g, jsonb_build_object('terms', 'Net ' || g % 60), 'r' || g % 9\n\
             FROM generate_series(1, 5000) g;\nANALYZE public.supplier;\n",
        ),
        (
            "002_terms.up.sql",
            "ALTER TABLE public.supplier ADD COLUMN terms text DEFAULT 'Net 30';\n\
             UPDATE public.supplier SET terms = COALESCE(terms, metadata->>'terms');\n\
             CREATE INDEX supplier_region ON public.supplier (region);\n",
        ),
    ])
}

#[tokio::test]
async fn plan_shows_the_findings_weighed_and_deploy_refuses_errors_unless_told() {
    let db = TestDb::empty("lint_plan").await;
    let set = lossy_set();
    let source = set.arg();
    run(&db, &["up", "--to", "1", "--source", &source]).expect_code(0);

    let plan = run(&db, &["plan", "--source", &source, "--format", "json"])
        .expect_code(0)
        .json();
    let findings = plan["lint"]["findings"].as_array().unwrap();
    let rule = |id: &str| findings.iter().find(|f| f["rule"] == id);
    let lost = rule("default-defeats-backfill").expect("the lossy backfill is found");
    assert_eq!(lost["line"], 2);
    let index = rule("index-without-concurrently").expect("the index build is found");
    assert_eq!(index["weight"]["rows"], 5000);
    let locks: Vec<(u64, &str, &str, u64)> = plan["lint"]["locks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["line"].as_u64().unwrap(),
                l["table"].as_str().unwrap(),
                l["mode"].as_str().unwrap(),
                l["weight"]["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        locks,
        [
            (1, "public.supplier", "AccessExclusiveLock", 5000),
            (3, "public.supplier", "ShareLock", 5000)
        ]
    );
    let text = run(&db, &["plan", "--source", &source]).expect_code(0);
    assert!(
        text.stdout.contains(
            "ALTER TABLE public.supplier: ACCESS EXCLUSIVE on public.supplier [5.0k rows, "
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("lint of the files to run: 1 error(s)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("error[default-defeats-backfill]"),
        "{}",
        text.stdout
    );

    let logs = Dir::with(&[]);
    let log = logs.file("refused.log");
    let refused = run(
        &db,
        &[
            "deploy",
            "--source",
            &source,
            "--no-backup",
            "--log",
            log.to_str().unwrap(),
        ],
    )
    .expect_code(9);
    assert!(
        refused.stderr.contains("--allow-lint-errors"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        common::scalar(&db, "SELECT max(version) FROM mantis.schema_migrations").await,
        "1",
        "nothing was deployed"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("error[default-defeats-backfill]"),
        "{logged}"
    );

    let log = logs.file("forced.log");
    run(
        &db,
        &[
            "deploy",
            "--source",
            &source,
            "--no-backup",
            "--allow-lint-errors",
            "--log",
            log.to_str().unwrap(),
        ],
    )
    .expect_code(0);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("lint found 1 error(s); deploying anyway, as --allow-lint-errors asks"),
        "{logged}"
    );
    assert_eq!(
        common::scalar(&db, "SELECT max(version) FROM mantis.schema_migrations").await,
        "2"
    );
}
