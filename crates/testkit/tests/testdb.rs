//! The testkit's own promises: fresh, isolated databases; dropped on success;
//! kept (and named) when the test fails.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use mantis_testkit::{connect, server, TestDb};

async fn database_exists(name: &str) -> bool {
    let admin = connect(&server()).await;
    admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .unwrap()
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_is_dropped_when_the_test_succeeds() {
    let db = TestDb::empty("dropped").await;
    let name = db.name().to_string();
    assert!(database_exists(&name).await);
    drop(db);
    assert!(!database_exists(&name).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_is_kept_when_the_test_panics() {
    let handle = tokio::spawn(async {
        let db = TestDb::empty("kept").await;
        let name = db.name().to_string();
        std::fs::write(
            std::env::temp_dir().join(format!("mantis-kept-{}", std::process::id())),
            &name,
        )
        .unwrap();
        panic!("simulated failure in {name}");
    });
    assert!(handle.await.is_err());
    let marker = std::env::temp_dir().join(format!("mantis-kept-{}", std::process::id()));
    let name = std::fs::read_to_string(&marker).unwrap();
    assert!(
        database_exists(&name).await,
        "a failed test's database must be kept"
    );
    let admin = connect(&server()).await;
    admin
        .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
    std::fs::remove_file(marker).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_of_the_template_are_migrated_and_independent() {
    let a = TestDb::at_version("clone_a", 1).await;
    let b = TestDb::at_version("clone_b", 1).await;
    assert_ne!(a.name(), b.name());
    let version: i64 = a
        .client()
        .await
        .query_one("SELECT max(version) FROM mantis.schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 1);
    a.client()
        .await
        .batch_execute("INSERT INTO core.warehouses (code, name) VALUES ('A', 'only in a')")
        .await
        .unwrap();
    let in_b: i64 = b
        .client()
        .await
        .query_one("SELECT count(*) FROM core.warehouses", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(in_b, 0, "clones must not share data");
}
