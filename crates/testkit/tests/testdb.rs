//! The testkit's own promises: fresh, isolated databases; dropped on success;
//! kept (and named) when the test fails.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use mantis_testkit::{connect, kept, server, TestDb};

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
    let this_run = kept::list(&admin)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.name == name)
        .expect("a kept database is listed");
    assert!(
        this_run
            .comment
            .contains(&format!("run {};", kept::run_id()))
            && this_run.comment.contains("test kept"),
        "{}",
        this_run.comment
    );
    assert!(
        !kept::drop_earlier_runs(&admin)
            .await
            .unwrap()
            .contains(&name),
        "this run's kept databases stay"
    );
    mantis_migrate::scratch::drop_database(&admin, &name)
        .await
        .unwrap();
    std::fs::remove_file(marker).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_run_drops_what_earlier_runs_kept() {
    let admin = connect(&server()).await;
    let name = format!("mt_kept_by_earlier_run_{}", std::process::id());
    mantis_migrate::scratch::drop_database(&admin, &name)
        .await
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    admin
        .batch_execute(&format!(
            "COMMENT ON DATABASE {name} IS \
             'mantis test database kept for inspection; run an-earlier-run; test x'"
        ))
        .await
        .unwrap();
    let dropped = kept::drop_earlier_runs(&admin).await.unwrap();
    assert!(dropped.contains(&name), "{dropped:?}");
    assert!(!database_exists(&name).await);
}
