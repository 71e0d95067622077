//! Roles and privileges across 003 and 004 (ADR-029): what each role could do
//! before the deploy it can still do after it, and no more; after a rollback,
//! the same again.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

mod common;

use common::{run, small_spec};
use mantis_testkit::TestDb;

/// The application, a reporting role and a role with no access, named after
/// the test's database (roles belong to the whole server).
struct Roles {
    app: String,
    reporting: String,
    nobody: String,
}

impl Roles {
    async fn create(db: &TestDb) -> Roles {
        let roles = Roles {
            app: format!("{}_app", db.name()),
            reporting: format!("{}_reporting", db.name()),
            nobody: format!("{}_nobody", db.name()),
        };
        let client = db.client().await;
        client
            .batch_execute(&format!(
                "CREATE ROLE {app} NOLOGIN; CREATE ROLE {reporting} NOLOGIN; CREATE ROLE {nobody} NOLOGIN;\n\
                 GRANT USAGE ON SCHEMA core TO {app}, {reporting}, {nobody};\n\
                 GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA core TO {app};\n\
                 GRANT SELECT ON ALL TABLES IN SCHEMA core TO {reporting};",
                app = roles.app,
                reporting = roles.reporting,
                nobody = roles.nobody
            ))
            .await
            .unwrap();
        roles
    }

    /// Drops the roles (their privileges first: they live in the database).
    async fn drop(&self, db: &TestDb) {
        let all = format!("{}, {}, {}", self.app, self.reporting, self.nobody);
        db.client()
            .await
            .batch_execute(&format!("DROP OWNED BY {all}; DROP ROLE {all};"))
            .await
            .unwrap();
    }
}

/// Runs `sql` as `role` in a transaction that is rolled back (or committed
/// when `keep`); the server's error message when it fails.
async fn as_role(db: &TestDb, role: &str, sql: &str, keep: bool) -> Result<(), String> {
    let client = db.client().await;
    client.batch_execute("BEGIN").await.unwrap();
    client
        .batch_execute(&format!("SET LOCAL ROLE {role}"))
        .await
        .unwrap();
    let result = client.batch_execute(sql).await;
    let end = if keep && result.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    client.batch_execute(end).await.unwrap();
    result.map_err(|e| {
        e.as_db_error()
            .map_or_else(|| e.to_string(), |d| d.message().to_string())
    })
}

const WRITE_STOCK: &str = "UPDATE core.stock_on_hand SET quantity = quantity + 1 \
     WHERE id = (SELECT id FROM core.stock_on_hand ORDER BY id LIMIT 1)";
const READ_STOCK: &str = "SELECT count(*) FROM core.stock_on_hand";

/// A movement of the first stock row, as the application posts one.
const POST_MOVEMENT: &str =
    "INSERT INTO core.stock_movement (product_id, warehouse_id, movement_type, quantity) \
     SELECT product_id, warehouse_id, 'RECEIPT', 2 FROM core.stock_on_hand ORDER BY id LIMIT 1";

const READ_NEW: [&str; 5] = [
    "SELECT count(*) FROM core.stock_movement",
    "SELECT count(*) FROM core.brand",
    "SELECT count(*) FROM core.mv_inventory_valuation",
    "SELECT count(*) FROM core.mv_product_stock_summary",
    "SELECT count(*) FROM core.mv_low_stock_alerts",
];

fn denied(result: Result<(), String>, what: &str) {
    let err = result.expect_err(what);
    assert!(err.contains("permission denied"), "{what}: {err}");
}

/// What every role could do at version 001 it can still do: the application
/// writes stock, the reporting role reads it and writes nothing, the third
/// role sees nothing.
async fn as_before(db: &TestDb, roles: &Roles) {
    as_role(db, &roles.app, WRITE_STOCK, false)
        .await
        .expect("the application writes stock");
    as_role(db, &roles.reporting, READ_STOCK, false)
        .await
        .expect("the reporting role reads stock");
    denied(
        as_role(db, &roles.reporting, WRITE_STOCK, false).await,
        "the reporting role must not write stock",
    );
    denied(
        as_role(db, &roles.nobody, READ_STOCK, false).await,
        "the role without access must not read stock",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_keeps_what_it_could_do_through_003_004_and_their_rollback() {
    let db = TestDb::seeded("privileges", &small_spec(), 1).await;
    let roles = Roles::create(&db).await;
    as_before(&db, &roles).await;

    // Between 003 and 004: the ledger exists, without the capture trigger.
    run(&db, &["up", "--to", "3"]).expect_code(0);
    as_before(&db, &roles).await;
    as_role(&db, &roles.app, POST_MOVEMENT, false)
        .await
        .expect("at 003 the application posts a movement");
    for read in READ_NEW {
        as_role(&db, &roles.reporting, read, false)
            .await
            .unwrap_or_else(|e| panic!("at 003, the reporting role: {read}: {e}"));
    }

    // The deploy (004) lists in its preflight the roles it must keep
    // working; its verify checks them.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("deploy.log");
    let deployed = run(
        &db,
        &["deploy", "--no-backup", "--log", log.to_str().unwrap()],
    )
    .expect_code(0);
    let preflight = deployed
        .stderr
        .lines()
        .find(|l| l.contains("roles using the tables"))
        .unwrap_or_else(|| panic!("{}", deployed.stderr));
    assert!(
        preflight.contains(&format!("{} (DELETE, INSERT, SELECT, UPDATE on", roles.app))
            && preflight.contains(&format!("{} (SELECT on", roles.reporting))
            && !preflight.contains(&roles.nobody),
        "{preflight}"
    );
    as_before(&db, &roles).await;
    for read in READ_NEW {
        as_role(&db, &roles.app, read, false)
            .await
            .unwrap_or_else(|e| panic!("the application: {read}: {e}"));
        as_role(&db, &roles.reporting, read, false)
            .await
            .unwrap_or_else(|e| panic!("the reporting role: {read}: {e}"));
        denied(
            as_role(&db, &roles.nobody, read, false).await,
            "the role without access must see nothing new",
        );
    }
    as_role(&db, &roles.app, POST_MOVEMENT, false)
        .await
        .expect("the application posts a movement");
    as_role(
        &db,
        &roles.app,
        "INSERT INTO core.brand (name) VALUES ('Role Test Brand')",
        false,
    )
    .await
    .expect("a writer of products adds a brand");
    denied(
        as_role(&db, &roles.reporting, POST_MOVEMENT, false).await,
        "the reporting role must not post",
    );
    denied(
        as_role(&db, &roles.app, "DELETE FROM core.stock_movement", false).await,
        "no one but the owner may remove a movement",
    );
    let public: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a \
             WHERE c.relnamespace = 'core'::regnamespace AND a.grantee = 0",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(public, 0, "nothing in core is granted to PUBLIC");

    // The application's writes, committed, keep the books: verify (which also
    // tries each role as itself) passes.
    as_role(&db, &roles.app, WRITE_STOCK, true).await.unwrap();
    as_role(&db, &roles.app, POST_MOVEMENT, true).await.unwrap();
    run(&db, &["verify"]).expect_code(0);

    run(&db, &["down", "--to", "1"]).expect_code(0);
    as_before(&db, &roles).await;
    roles.drop(&db).await;
}

/// A role that writes stock but lost the right to post movements (as after a
/// deploy by a tool that granted nothing) is named by verify, by privilege
/// and by trying it as that role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_a_role_that_can_no_longer_write_stock() {
    let db = TestDb::seeded("privileges_verify", &small_spec(), 1).await;
    let roles = Roles::create(&db).await;
    run(&db, &["up"]).expect_code(0);
    db.client()
        .await
        .batch_execute(&format!(
            "REVOKE INSERT ON core.stock_movement FROM {}",
            roles.app
        ))
        .await
        .unwrap();
    denied(
        as_role(&db, &roles.app, WRITE_STOCK, false).await,
        "a stock write is captured as a movement, as the writing role",
    );
    let out = run(&db, &["verify"]).expect_code(8);
    let both = format!("{}{}", out.stdout, out.stderr);
    assert!(
        both.contains(&roles.app) && both.contains("INSERT on core.stock_movement"),
        "{both}"
    );
    assert!(
        both.contains("roles that could use stock before 004 cannot now"),
        "{both}"
    );
    roles.drop(&db).await;
}

/// The rehearsal of 003 and 004 finds no privilege lost and nothing new that
/// the roles using the database may not use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rehearsal_of_003_and_004_leaves_no_role_behind() {
    let db = TestDb::seeded("privileges_rehearse", &small_spec(), 1).await;
    let roles = Roles::create(&db).await;
    let json = run(&db, &["--format", "json", "rehearse"])
        .expect_code(0)
        .json();
    let report = &json["roles"];
    assert_eq!(report["lost"], serde_json::json!([]), "{report}");
    assert_eq!(
        report["new_without_grants"],
        serde_json::json!([]),
        "{report}"
    );
    let listed = report["roles"].to_string();
    assert!(
        listed.contains(&roles.app) && listed.contains(&roles.reporting),
        "{listed}"
    );
    roles.drop(&db).await;
}
