//! Replays that must not get stuck: absurd waits asked by a target, a
//! delivery that panics, a probe that never came back, and breaker updates
//! from workers running side by side.

use std::sync::Arc;

use crossdock::retry::RetrySchedule;
use crossdock_server::services::outbound::{Answer, Outbound, Request};

use super::*;

#[tokio::test]
async fn a_retry_after_of_centuries_waits_a_day_at_most_and_the_attempts_still_run_out() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[Reply::RetryAfter(429, 99_999_999_999_999), Reply::Status(503)]).await;
    configure(&app, &target, 2, false).await;
    let id = file(&app, &key, "h-1", "SHP-9101").await;
    ok(replay(&app.signed_in("sam").await, id, None).await).await;

    let now = Utc::now();
    let step = app.services.try_execute_replay(now).await.expect("the worker survives");
    let Some(ReplayStep::Retrying { next, .. }) = step else { panic!("{step:?}") };
    let longest = Duration::milliseconds(RetrySchedule::MAX_DELAY_MS as i64);
    assert!(next <= Utc::now() + longest && next >= now + longest - Duration::minutes(1), "{next}");

    let step = app.services.try_execute_replay(next).await.expect("step");
    assert!(matches!(step, Some(ReplayStep::Failed { .. })), "two attempts and no more: {step:?}");
    let view = status(&app.signed_in("sam").await, id).await;
    assert_eq!(view.state, Some(ReplayState::Failed));
    assert_eq!(view.attempts.len(), 2);
}

/// A sender that fails inside Crossdock, as a defect would.
struct Panicking;

#[async_trait::async_trait]
impl Outbound for Panicking {
    async fn send(&self, _: Request<'_>) -> Answer {
        panic!("a defect while delivering")
    }
}

#[tokio::test]
async fn a_delivery_that_panics_counts_as_a_failed_attempt() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[]).await;
    configure(&app, &target, 2, false).await;
    let id = file(&app, &key, "h-2", "SHP-9102").await;
    ok(replay(&app.signed_in("sam").await, id, None).await).await;
    let broken = app.services.clone().with_outbound(Arc::new(Panicking));

    let first = broken.try_execute_replay(later()).await.expect("the panic is caught");
    assert!(matches!(first, Some(ReplayStep::Retrying { .. })), "{first:?}");
    let second = broken.try_execute_replay(later() + Duration::hours(1)).await.expect("the panic is caught");
    assert!(matches!(second, Some(ReplayStep::Failed { .. })), "{second:?}");
    let view = status(&app.signed_in("sam").await, id).await;
    assert_eq!(view.state, Some(ReplayState::Failed), "the exception is handed back, not stuck");
    assert!(view.attempts.iter().all(|a| a.outcome == AttemptOutcome::InternalError), "{:?}", view.attempts);
    assert_eq!(view.attempts.len(), 2);
    assert!(target.seen().is_empty());
}

async fn breaker_of(app: &TestApp) -> Breaker {
    let connectors: Vec<ConnectorEntry> =
        ok(app.signed_in("morgan").await.server_fn("list_connectors", &[]).await).await.json().await.expect("list");
    connectors.into_iter().find(|c| c.spec.name == "TMS shipments").expect("the test's connector").breaker
}

async fn connector_id(app: &TestApp) -> i64 {
    app.scalar("SELECT id FROM connectors WHERE name = 'TMS shipments'").await
}

#[tokio::test]
async fn a_probe_that_never_came_back_lets_another_through_once_its_time_is_up() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[]).await;
    configure(&app, &target, 5, false).await;
    let id = file(&app, &key, "h-3", "SHP-9103").await;
    ok(replay(&app.signed_in("sam").await, id, None).await).await;
    // A worker sent a probe and died before it came back.
    let now = Utc::now();
    let stuck = Breaker::HalfOpen { until: now + Duration::seconds(40) };
    let pool = app.services.pool();
    let from = breaker_of(&app).await;
    assert!(
        crossdock_server::store::connectors::swap_breaker(pool, connector_id(&app).await, &from, &stuck)
            .await
            .expect("swap")
    );

    let step = app.services.try_execute_replay(now).await.expect("step");
    assert!(matches!(step, Some(ReplayStep::Deferred { .. })), "the probe may still come back: {step:?}");
    let step = app.services.try_execute_replay(now + Duration::minutes(2)).await.expect("step");
    assert!(matches!(step, Some(ReplayStep::Delivered { .. })), "a new probe goes: {step:?}");
    assert_eq!(breaker_of(&app).await, Breaker::Closed { failures: 0 });
}

#[tokio::test]
async fn saving_a_connector_can_close_its_circuit() {
    let (app, _) = replay_app().await;
    let target = Target::start(&[]).await;
    configure(&app, &target, 5, false).await;
    let open = Breaker::Open { since: Utc::now() };
    let pool = app.services.pool();
    let from = breaker_of(&app).await;
    assert!(
        crossdock_server::store::connectors::swap_breaker(pool, connector_id(&app).await, &from, &open)
            .await
            .expect("swap")
    );
    let morgan = app.signed_in("morgan").await;
    let spec = connector(&target.url, Some("Fast"));

    ok(morgan.server_fn_json("save_connector", &json!({"connector": spec})).await).await;
    assert!(matches!(breaker_of(&app).await, Breaker::Open { .. }), "a plain save keeps the circuit as it is");
    ok(morgan.server_fn_json("save_connector", &json!({"connector": spec, "reset_breaker": true})).await).await;
    assert_eq!(breaker_of(&app).await, Breaker::Closed { failures: 0 });
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT after FROM audit_log WHERE action = 'connector.saved' AND after LIKE '%reset to closed%'",
    )
    .fetch_all(pool)
    .await
    .expect("audit");
    assert_eq!(audit.len(), 1, "the reset is audited");
}

#[tokio::test]
async fn failures_of_workers_side_by_side_all_count_on_the_breaker() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[Reply::SlowStatus(300, 503), Reply::SlowStatus(300, 503)]).await;
    configure(&app, &target, 5, false).await;
    let morgan = app.signed_in("morgan").await;
    let mut spec = connector(&target.url, Some("Fast"));
    spec["breaker_threshold"] = json!(2);
    spec["timeout_ms"] = json!(2000);
    ok(morgan.server_fn_json("save_connector", &json!({"connector": spec})).await).await;
    let sam = app.signed_in("sam").await;
    for (event, shipment) in [("h-5a", "SHP-9105"), ("h-5b", "SHP-9106")] {
        let id = file(&app, &key, event, shipment).await;
        ok(replay(&sam, id, None).await).await;
    }

    let now = Utc::now() + Duration::seconds(5);
    let (a, b) = tokio::join!(app.services.try_execute_replay(now), app.services.try_execute_replay(now));
    for step in [a.expect("step"), b.expect("step")] {
        assert!(matches!(step, Some(ReplayStep::Retrying { .. })), "{step:?}");
    }
    assert!(
        matches!(breaker_of(&app).await, Breaker::Open { .. }),
        "both failures counted: {:?}",
        breaker_of(&app).await
    );
}
