//! Replays delivered by several instances on one database.

use super::*;

#[tokio::test]
async fn a_thousand_replays_run_by_two_instances_reach_the_target_once_each() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[]).await;
    configure(&app, &target, 5, false).await;
    for batch in 0..10 {
        let events: Vec<Value> =
            (0..100).map(|i| failure(&format!("k-{batch}-{i}"), &format!("SHP-K{batch}{i:02}"), true)).collect();
        let r =
            app.post_events(Some(&key), "application/cloudevents-batch+json", Value::Array(events).to_string()).await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
    }
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM exceptions WHERE refs LIKE '%SHP-K%' ORDER BY id")
        .fetch_all(app.services.pool())
        .await
        .expect("ids");
    assert_eq!(ids.len(), 1000);
    let sam = app.signed_in("sam").await;
    let body = json!({"target": {"target": "selected", "ids": ids}, "action": {"kind": "replay"}});
    let job: i64 = ok(sam.server_fn_json("start_bulk", &body).await).await.json().await.expect("job");
    let deadline = std::time::Instant::now() + StdDuration::from_secs(120);
    loop {
        let bulk: crossdock::triage::BulkJob =
            ok(sam.server_fn("bulk_status", &[("job", &job.to_string())]).await).await.json().await.expect("bulk");
        if bulk.finished {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the bulk replay never finished");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    // Two more instances on the same database deliver them side by side.
    let workers = |c: &mut crossdock_server::config::Config| c.replay_workers = 4;
    let (_one, _two) = (app.beside(workers).await, app.beside(workers).await);
    while app.scalar("SELECT COUNT(*) FROM replay_jobs WHERE state = 'succeeded'").await < 1000 {
        assert!(std::time::Instant::now() < deadline, "the replays never all succeeded");
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
    let per_key = target.per_key();
    assert_eq!(per_key.len(), 1000, "one idempotency key per replay");
    let twice: Vec<_> = per_key.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
}
