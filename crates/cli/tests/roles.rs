//! Roles given exactly the grants docs/ledger.md lists use the CLI's read
//! and posting commands; a role without the history grants is told which
//! GRANTs to ask for. On a private server with password logins, so each role
//! logs in as itself.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use common::run_url;
use mantis_testkit::PrivateServer;

const PASSWORD: &str = "a-roles-password";

/// The SQL block of docs/ledger.md's "Roles" section, for roles `app` and
/// `reporting` renamed.
fn documented_grants(app: &str, reporting: &str) -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ledger.md"))
        .unwrap();
    let roles = doc.split("## Roles").nth(1).unwrap();
    let block = roles
        .split("```sql\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    block
        .lines()
        .filter(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(" app;", &format!(" {app};"))
        .replace(" app,", &format!(" {app},"))
        .replace(" reporting;", &format!(" {reporting};"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_with_the_documented_grants_use_the_read_and_posting_commands() {
    let server = PrivateServer::start(PASSWORD);
    let owner_url = server
        .url(PASSWORD, "disable")
        .replace("/postgres?", "/roles_db?");
    let admin = mantis_testkit::connect(
        &mantis_migrate::ConnectOptions::resolve(Some(&server.url(PASSWORD, "disable"))).unwrap(),
    )
    .await;
    admin
        .batch_execute("CREATE DATABASE roles_db")
        .await
        .unwrap();
    run_url(&owner_url, &["up", "--to", "1"]).expect_code(0);
    run_url(&owner_url, &["seed", "--products", "60"]).expect_code(0);
    run_url(&owner_url, &["up"]).expect_code(0);
    let owner = mantis_testkit::connect(
        &mantis_migrate::ConnectOptions::resolve(Some(&owner_url)).unwrap(),
    )
    .await;
    owner
        .batch_execute(&format!(
            "CREATE ROLE app LOGIN PASSWORD '{PASSWORD}'; CREATE ROLE reporting LOGIN PASSWORD '{PASSWORD}'; \
             CREATE ROLE bare LOGIN PASSWORD '{PASSWORD}'; \
             GRANT USAGE ON SCHEMA core TO bare; GRANT SELECT ON ALL TABLES IN SCHEMA core TO bare;\n{}",
            documented_grants("app", "reporting")
        ))
        .await
        .unwrap();
    let as_role = |role: &str| owner_url.replace("postgres:", &format!("{role}:"));
    let sku: String = owner
        .query_one("SELECT min(sku) FROM core.products", &[])
        .await
        .unwrap()
        .get(0);
    let warehouse: String = owner
        .query_one("SELECT min(code) FROM core.warehouses", &[])
        .await
        .unwrap()
        .get(0);

    for role in ["app", "reporting"] {
        let url = as_role(role);
        for command in [
            &["status"][..],
            &["stock", "levels"][..],
            &["stock", "history", "--sku", &sku][..],
            &["report", "valuation"][..],
            &["report", "low-stock"][..],
            &["brand", "list"][..],
        ] {
            run_url(&url, command).expect_code(0);
        }
        let verify = run_url(&url, &["verify"]).expect_code(0);
        if role == "reporting" {
            assert!(
                verify.stdout.contains("this role may not run it"),
                "{}",
                verify.stdout
            );
        }
    }
    run_url(
        &as_role("app"),
        &[
            "stock",
            "receive",
            "--sku",
            &sku,
            "--warehouse",
            &warehouse,
            "--quantity",
            "3",
            "--unit-cost",
            "2.50",
        ],
    )
    .expect_code(0);

    let out = run_url(&as_role("bare"), &["stock", "levels"]).expect_code(5);
    assert!(
        out.stderr.contains("GRANT USAGE ON SCHEMA mantis TO bare")
            && out.stderr.contains(
                "GRANT SELECT ON mantis.schema_migrations, mantis.migration_progress TO bare"
            ),
        "{}",
        out.stderr
    );
}
