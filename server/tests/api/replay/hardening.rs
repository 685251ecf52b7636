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

/// Files the same failure as [`failure`], from another source.
async fn file_as(app: &TestApp, key: &str, source: &str, id: &str, shipment: &str) -> i64 {
    let mut event = super::failure(id, shipment, true);
    event["source"] = json!(source);
    let r = app.post_event(key, &event).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    r.json::<Value>().await.expect("json")["exception_id"].as_i64().expect("an exception")
}

#[tokio::test]
async fn a_failure_from_a_source_the_connector_does_not_trust_waits_for_a_supervisor() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[]).await;
    configure(&app, &target, 5, true).await;
    let rogue = app.source("rogue", "rogue", 1000.0, 1000).await;
    let theirs = file_as(&app, &rogue, "rogue/x", "u-1", "SHP-9201").await;
    let ours = file(&app, &key, "u-2", "SHP-9201").await;
    assert_ne!(theirs, ours, "the same failure from another source is another exception");

    // The trusted source's failure is replayed automatically; the other not.
    let jobs = |id: i64| format!("SELECT COUNT(*) FROM replay_jobs WHERE exception_id = {id}");
    for _ in 0..100 {
        if app.scalar(&jobs(ours)).await > 0 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    assert_eq!(app.scalar(&jobs(ours)).await, 1);
    assert_eq!(app.scalar(&jobs(theirs)).await, 0, "no automatic replay of what nobody vouched for");

    let sam = app.signed_in("sam").await;
    let view = status(&sam, theirs).await;
    assert!(!view.trusted);
    assert_eq!(view.filed_by.as_deref(), Some("rogue"));
    let refused = replay(&sam, theirs, None).await;
    assert_eq!(refused.status(), 403);
    let error: AppError = refused.json().await.expect("error");
    assert!(error.to_string().contains("a supervisor must confirm"), "{error}");

    // Staff cannot confirm; a supervisor can, and the trail says so.
    let staff = crossdock_server::services::NewUser {
        username: "terry".into(),
        display_name: "Terry".into(),
        role: "staff".into(),
        password: secrecy::SecretString::from("transport-desk-lamp-4"),
        queues: vec!["transportation".into()],
    };
    app.services.create_user(&crossdock_server::auth::Operator::command_line(), &staff).await.expect("user");
    let terry = app.browser();
    assert!(terry.login("terry", "transport-desk-lamp-4").await.status().is_success());
    let by_staff = terry.server_fn_json("replay", &json!({"id": theirs, "confirm": true})).await;
    assert_eq!(by_staff.status(), 403);
    ok(sam.server_fn_json("replay", &json!({"id": theirs, "confirm": true})).await).await;
    let after: String = sqlx::query_scalar(
        "SELECT after FROM audit_log WHERE action = 'exception.replay_requested' AND entity_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(theirs.to_string())
    .fetch_one(app.services.pool())
    .await
    .expect("audit");
    let after: Value = serde_json::from_str(&after).expect("json");
    assert_eq!(after["filed_by"], "rogue");
    assert_eq!(after["confirmed_by"], "user:sam");
}
