//! View refreshes take turns: a refresh that finds another running waits for
//! it, and skips (saying who) when it runs too long; it never fails for it.

#![allow(clippy::unwrap_used)] // a panic is how a test reports failure

use std::time::Duration;

use mantis_inventory::refresh::{refresh_all_waiting, VIEWS};
use mantis_testkit::{Spec, TestDb};

const TURN: &str = "SELECT pg_advisory_lock(x'6d616e74'::int, x'69730002'::int)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_waits_for_another_and_skips_when_it_runs_too_long() {
    let spec = Spec {
        products: 200,
        ..Spec::default()
    };
    let db = TestDb::seeded("refresh_turns", &spec, 4).await;
    let other = db.client().await;
    other
        .batch_execute("SET application_name = 'the-other-refresh'")
        .await
        .unwrap();
    other.query_one(TURN, &[]).await.unwrap();

    let ours = db.client().await;
    let skipped = refresh_all_waiting(&ours, Duration::from_millis(300)).await;
    assert_eq!(skipped.len(), VIEWS.len());
    for r in &skipped {
        assert!(r.error.is_none(), "{r:?}");
        let why = r.skipped.as_deref().unwrap();
        assert!(
            why.contains("the-other-refresh") && why.contains("still refreshing"),
            "{why}"
        );
    }

    // Once the other is done, the waiting one refreshes every view.
    let started = std::time::Instant::now();
    let waiting =
        tokio::spawn(async move { refresh_all_waiting(&ours, Duration::from_secs(30)).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    other
        .batch_execute("SELECT pg_advisory_unlock_all()")
        .await
        .unwrap();
    let done = waiting.await.unwrap();
    for r in &done {
        assert!(r.error.is_none() && r.skipped.is_none(), "{r:?}");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it waited its turn"
    );
}
