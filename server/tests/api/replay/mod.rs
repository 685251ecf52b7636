//! Replays: connectors, retry policies, durable jobs with leases, attempts,
//! the circuit breaker, corrections and automatic retries, against real HTTP
//! targets on 127.0.0.1.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use crossdock::audit::AuditAction;
use crossdock::replay::{AttemptOutcome, Breaker, JobState, ReplayState};
use crossdock::triage::BulkOutcome;
use crossdock_app::AppError;
use crossdock_app::dto::{ConnectorEntry, ExceptionDetailView, ReplayView};
use crossdock_server::services::ReplayStep;
use crossdock_server::store::leases::{Lease, Work};
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, spawn_app_with};

mod hardening;
mod instances;
mod search;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const SECRET: &str = "Bearer carrier-token-7f3a";

/// How the target answers one delivery.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reply {
    Status(u16),
    /// A status with `Retry-After` in seconds.
    RetryAfter(u16, u64),
    /// A status after this many milliseconds.
    SlowStatus(u64, u16),
    /// No answer for this long, then 200.
    Hang(u64),
}

/// One delivery as the target saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) headers: HeaderMap,
    key: Option<String>,
    traceparent: Option<String>,
    auth: Option<String>,
    content_type: Option<String>,
    pub(crate) body: String,
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    seen: Vec<Seen>,
}

/// A real HTTP target: answers from its script (then 200) and remembers
/// every delivery.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) url: String,
    script: Arc<Mutex<Script>>,
}

async fn deliver(State(script): State<Arc<Mutex<Script>>>, headers: HeaderMap, body: String) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let reply = {
        let mut s = script.lock().expect("target state");
        s.seen.push(Seen {
            headers: headers.clone(),
            key: header("idempotency-key"),
            traceparent: header("traceparent"),
            auth: header("authorization"),
            content_type: header("content-type"),
            body,
        });
        s.replies.pop_front().unwrap_or(Reply::Status(200))
    };
    let status = |code: u16| StatusCode::from_u16(code).expect("status");
    match reply {
        Reply::Status(code) => (status(code), format!("{{\"answer\":{code}}}")).into_response(),
        Reply::RetryAfter(code, secs) => {
            (status(code), [("retry-after", secs.to_string())], "slow down").into_response()
        }
        Reply::SlowStatus(ms, code) => {
            tokio::time::sleep(StdDuration::from_millis(ms)).await;
            (status(code), "slow").into_response()
        }
        Reply::Hang(ms) => {
            tokio::time::sleep(StdDuration::from_millis(ms)).await;
            (StatusCode::OK, "late").into_response()
        }
    }
}

impl Target {
    pub(crate) async fn start(replies: &[Reply]) -> Target {
        let script = Arc::new(Mutex::new(Script { replies: replies.iter().copied().collect(), seen: Vec::new() }));
        let app = axum::Router::new().route("/deliver", axum::routing::any(deliver)).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the target");
        let url = format!("http://{}/deliver", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Target { url, script }
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.script.lock().expect("target state").seen.clone()
    }

    /// Deliveries per idempotency key.
    fn per_key(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for s in self.seen() {
            *counts.entry(s.key.unwrap_or_default()).or_default() += 1;
        }
        counts
    }
}

/// A server with demo data whose replays are driven by the test (no
/// background workers), and a key for the middleware source.
async fn replay_app() -> (TestApp, String) {
    let app = spawn_app_with(|c| c.replay_workers = 0, None).await;
    app.seed_demo().await;
    let key = app.source("test-mw", "test-mw", 10_000.0, 10_000).await;
    (app, key)
}

fn failure(id: &str, shipment: &str, retryable: bool) -> Value {
    json!({
        "specversion": "1.0", "id": id, "source": "test-mw/hub", "type": "exception.integration",
        "time": "2026-11-24T16:05:00Z", "traceparent": TRACEPARENT,
        "data": {"site": "DC-DAL", "refs": {"shipment": shipment}, "system": "tms",
                 "operation": "tms.create_shipment", "error_code": "timeout", "message": "no answer in 30 s",
                 "retryable": retryable, "payload": {"shipment": shipment, "weight_kg": 12}}
    })
}

/// Files an integration failure and answers its exception id.
async fn file(app: &TestApp, key: &str, id: &str, shipment: &str) -> i64 {
    let r = app.post_event(key, &failure(id, shipment, true)).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let body: Value = r.json().await.expect("json");
    body["exception_id"].as_i64().expect("an exception")
}

fn connector(url: &str, policy: Option<&str>) -> Value {
    json!({"name": "TMS shipments", "system": "tms", "operation": "tms.create_shipment", "method": "POST", "url": url,
           "headers": {"x-tenant": "acme"}, "auth_header": "Authorization", "timeout_ms": 300,
           "retry_policy": policy, "breaker_threshold": 5, "breaker_cooldown_seconds": 60,
           "allowed_sources": ["test-mw"]})
}

fn policy(name: &str, max_attempts: u32, automatic: bool) -> Value {
    json!({"name": name, "max_attempts": max_attempts, "initial_delay_ms": 1000, "multiplier": 2.0,
           "max_delay_ms": 10_000, "jitter": "none",
           "retry_on": {"timeout": true, "connection_error": true, "throttled": true, "server_error": true},
           "automatic": automatic})
}

async fn ok(r: reqwest::Response) -> reqwest::Response {
    assert!(r.status().is_success(), "{}: {:?}", r.status(), r.text().await);
    r
}

/// Sets up the connector (with its secret) under a fast policy.
async fn configure(app: &TestApp, target: &Target, max_attempts: u32, automatic: bool) {
    let morgan = app.signed_in("morgan").await;
    ok(morgan.server_fn_json("save_retry_policy", &json!({"policy": policy("Fast", max_attempts, automatic)})).await)
        .await;
    let body = json!({"connector": connector(&target.url, Some("Fast")), "secret": SECRET});
    ok(morgan.server_fn_json("save_connector", &body).await).await;
}

async fn replay(b: &Browser, id: i64, corrected: Option<&str>) -> reqwest::Response {
    b.server_fn_json("replay", &json!({"id": id, "corrected": corrected})).await
}

async fn status(b: &Browser, id: i64) -> ReplayView {
    ok(b.server_fn("replay_status", &[("id", &id.to_string())]).await).await.json().await.expect("replay view")
}

async fn b_answer(b: &Browser, id: i64, job: &str, attempt: &str) -> String {
    let answer = b.server_fn("replay_answer", &[("id", &id.to_string()), ("job", job), ("attempt", attempt)]).await;
    ok(answer).await.json().await.expect("an answer")
}

async fn detail(b: &Browser, id: i64) -> ExceptionDetailView {
    ok(b.server_fn("exception_detail", &[("id", &id.to_string())]).await).await.json().await.expect("detail")
}

/// A moment after every wait the tests' policies can ask for.
fn later() -> chrono::DateTime<Utc> {
    Utc::now() + Duration::hours(1)
}

#[tokio::test]
async fn a_replay_that_fails_twice_then_succeeds_resolves_its_exception_as_replayed() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[Reply::Status(503), Reply::Status(502)]).await;
    configure(&app, &target, 5, false).await;
    let id = file(&app, &key, "f-1", "SHP-9001").await;
    let sam = app.signed_in("sam").await;

    ok(replay(&sam, id, None).await).await;
    let view = status(&sam, id).await;
    assert_eq!(view.state, Some(ReplayState::Scheduled));
    assert!(view.next_attempt_at.is_some(), "the next attempt time is shown");
    let again = replay(&sam, id, None).await;
    assert_eq!(again.status(), 400, "one replay at a time");

    let first = app.services.try_execute_replay(later()).await.expect("step");
    let Some(ReplayStep::Retrying { next, .. }) = first else { panic!("{first:?}") };
    assert!(next > Utc::now(), "the next attempt waits as the policy says");
    assert_eq!(app.services.try_execute_replay(Utc::now()).await.expect("step"), None, "nothing is due before then");
    assert!(matches!(app.services.try_execute_replay(later()).await.expect("step"), Some(ReplayStep::Retrying { .. })));
    assert!(matches!(
        app.services.try_execute_replay(later()).await.expect("step"),
        Some(ReplayStep::Delivered { .. })
    ));
    assert_eq!(app.services.try_execute_replay(later()).await.expect("step"), None);

    let seen = target.seen();
    assert_eq!(target.per_key(), BTreeMap::from([(format!("crossdock-ex{id}-v1"), 3)]), "one key for all attempts");
    for s in &seen {
        assert_eq!(s.traceparent.as_deref(), Some(TRACEPARENT), "the original trace travels with the replay");
        assert_eq!(s.auth.as_deref(), Some(SECRET));
        assert_eq!(s.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            serde_json::from_str::<Value>(&s.body).expect("json"),
            json!({"shipment": "SHP-9001", "weight_kg": 12})
        );
    }

    let view = status(&sam, id).await;
    assert_eq!(view.state, Some(ReplayState::Replayed));
    assert_eq!(view.jobs[0].state, JobState::Succeeded);
    let statuses: Vec<Option<i64>> = view.attempts.iter().map(|a| a.http_status).collect();
    assert_eq!(statuses, [Some(200), Some(502), Some(503)], "newest first");
    assert_eq!(view.attempts[0].outcome, AttemptOutcome::Delivered);
    assert!(view.attempts.iter().all(|a| a.latency_ms.is_some()));
    // What the target answered is read on demand, and the reading is recorded.
    assert!(view.attempts[1].answered);
    let (job, attempt) = (view.attempts[1].job.to_string(), view.attempts[1].attempt.to_string());
    let read = b_answer(&sam, id, &job, &attempt).await;
    assert_eq!(read, "{\"answer\":502}");
    let alex = app.signed_in("alex").await;
    let query = format!("exception={id}&action=exception.replay_answer_read");
    let trail = ok(alex.server_fn("audit_page", &[("query", &query)]).await).await;
    let trail: crossdock::audit::query::AuditPage = trail.json().await.expect("the trail");
    let read = trail.lines.into_iter().find(|l| l.action == AuditAction::ReplayAnswerRead);
    assert_eq!(read.map(|l| l.actor.to_string()), Some("user:sam".to_owned()), "the read is recorded");
    let missing = sam.server_fn("replay_answer", &[("id", &id.to_string()), ("job", &job), ("attempt", "99")]).await;
    assert_eq!(missing.status(), 404);
    let d = detail(&sam, id).await;
    assert_eq!(d.item.status, crossdock::Status::Resolved);
    let resolved = d.timeline.iter().find(|t| t.action == AuditAction::ExceptionResolved).expect("resolution audited");
    assert!(resolved.reason.as_deref().is_some_and(|r| r.starts_with("replayed")), "{resolved:?}");

    let refused = replay(&sam, id, None).await;
    assert_eq!(refused.status(), 400);
    let error: AppError = refused.json().await.expect("error");
    assert!(error.to_string().contains("reopen"), "{error}");
    assert_eq!(target.seen().len(), 3, "a resolved exception is never replayed");

    let audit: Vec<String> =
        sqlx::query_scalar("SELECT COALESCE(before, '') || COALESCE(after, '') || COALESCE(reason, '') FROM audit_log")
            .fetch_all(app.services.pool())
            .await
            .expect("audit");
    assert!(audit.iter().all(|a| !a.contains("carrier-token")), "the secret never reaches the audit log");
}

#[tokio::test]
async fn a_refusal_returns_the_exception_to_its_queue_with_the_reason() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[Reply::Status(400)]).await;
    configure(&app, &target, 5, false).await;
    let id = file(&app, &key, "f-2", "SHP-9002").await;
    let sam = app.signed_in("sam").await;
    ok(replay(&sam, id, None).await).await;

    assert!(matches!(app.services.try_execute_replay(later()).await.expect("step"), Some(ReplayStep::Failed { .. })));
    assert_eq!(target.seen().len(), 1, "a 400 is not retried");
    let view = status(&sam, id).await;
    assert_eq!(view.state, Some(ReplayState::Failed));
    assert!(view.note.as_deref().is_some_and(|n| n.contains("HTTP 400")), "{:?}", view.note);
    let d = detail(&sam, id).await;
    assert!(d.item.status.is_open(), "back in its queue, open");
    assert_eq!(d.item.queue, "transportation");
    assert!(d.timeline.iter().any(|t| t.action == AuditAction::ReplayFailed));
    assert_eq!(d.item.replay, Some(ReplayState::Failed));
    let listed: crossdock::triage::QueuePage =
        ok(sam.server_fn("queue_page", &[("query", "queue=transportation")]).await).await.json().await.expect("page");
    let row = listed.items.iter().find(|i| i.id.get() == id).expect("in its queue's view");
    assert_eq!(row.replay, Some(ReplayState::Failed), "marked replay failed in the list");

    // Its owner may try again once the target is fixed.
    ok(replay(&sam, id, None).await).await;
    assert!(matches!(
        app.services.try_execute_replay(later()).await.expect("step"),
        Some(ReplayStep::Delivered { .. })
    ));
}

#[tokio::test]
async fn a_target_that_hangs_past_the_timeout_uses_up_the_attempts() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[Reply::Hang(3_000), Reply::Hang(3_000)]).await;
    configure(&app, &target, 2, false).await;
    let id = file(&app, &key, "f-3", "SHP-9003").await;
    let sam = app.signed_in("sam").await;
    ok(replay(&sam, id, None).await).await;

    assert!(matches!(app.services.try_execute_replay(later()).await.expect("step"), Some(ReplayStep::Retrying { .. })));
    assert!(matches!(app.services.try_execute_replay(later()).await.expect("step"), Some(ReplayStep::Failed { .. })));
    let view = status(&sam, id).await;
    assert!(view.attempts.iter().all(|a| a.outcome == AttemptOutcome::Timeout && a.http_status.is_none()));
    assert!(
        view.attempts.iter().all(|a| a.latency_ms.is_some_and(|l| (300..3_000).contains(&l))),
        "{:?}",
        view.attempts
    );
    assert!(
        view.note.as_deref().is_some_and(|n| n.contains("after 2 attempt(s)") && n.contains("300 ms")),
        "{:?}",
        view.note
    );
    assert_eq!(target.per_key().get(&format!("crossdock-ex{id}-v1")), Some(&2));
}

#[tokio::test]
async fn retry_after_from_a_throttled_target_is_honoured() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[Reply::RetryAfter(429, 120)]).await;
    configure(&app, &target, 5, false).await;
    let id = file(&app, &key, "f-4", "SHP-9004").await;
    let sam = app.signed_in("sam").await;
    ok(replay(&sam, id, None).await).await;

    let before = Utc::now();
    let step = app.services.try_execute_replay(later()).await.expect("step");
    let Some(ReplayStep::Retrying { next, .. }) = step else { panic!("{step:?}") };
    assert!(next >= before + Duration::seconds(119), "waits as long as the target asked: {next}");
    assert_eq!(app.services.try_execute_replay(before + Duration::seconds(60)).await.expect("step"), None);
    assert!(matches!(
        app.services.try_execute_replay(later()).await.expect("step"),
        Some(ReplayStep::Delivered { .. })
    ));
    assert_eq!(target.seen().len(), 2);
}

#[tokio::test]
async fn an_open_circuit_rests_the_target_then_one_probe_closes_it() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[Reply::Status(503), Reply::Status(503)]).await;
    configure(&app, &target, 5, false).await;
    let morgan = app.signed_in("morgan").await;
    let mut spec = connector(&target.url, Some("Fast"));
    spec["breaker_threshold"] = json!(2);
    ok(morgan.server_fn_json("save_connector", &json!({"connector": spec})).await).await;
    let sam = app.signed_in("sam").await;
    let ids = [
        file(&app, &key, "f-5a", "SHP-9005").await,
        file(&app, &key, "f-5b", "SHP-9006").await,
        file(&app, &key, "f-5c", "SHP-9007").await,
    ];
    for id in ids {
        ok(replay(&sam, id, None).await).await;
    }

    // Two failures in a row open the circuit.
    let soon = Utc::now() + Duration::seconds(5);
    assert!(matches!(app.services.try_execute_replay(soon).await.expect("step"), Some(ReplayStep::Retrying { .. })));
    assert!(matches!(app.services.try_execute_replay(soon).await.expect("step"), Some(ReplayStep::Retrying { .. })));
    let connectors: Vec<ConnectorEntry> =
        ok(morgan.server_fn("list_connectors", &[]).await).await.json().await.expect("list");
    let ours = connectors.iter().find(|c| c.spec.name == "TMS shipments").expect("the test's connector");
    assert!(matches!(ours.breaker, Breaker::Open { .. }), "{:?}", ours.breaker);
    assert!(ours.has_secret, "the secret was kept when the connector was saved without one");

    // While it is open, due jobs wait without spending attempts.
    let step = app.services.try_execute_replay(soon).await.expect("step");
    assert!(matches!(step, Some(ReplayStep::Deferred { .. })), "{step:?}");
    assert_eq!(target.seen().len(), 2, "no delivery while the circuit is open");
    let waiting = ids[2];
    let view = status(&sam, waiting).await;
    assert!(view.note.as_deref().is_some_and(|n| n.contains("circuit is open")), "{:?}", view.note);
    assert!(
        matches!(view.connector.expect("connector").breaker, Breaker::Open { .. }),
        "shown on the exceptions waiting for it"
    );
    assert!(view.attempts.is_empty());

    // After the cool-down one probe goes through and closes it; the rest follow.
    let after_cooldown = Utc::now() + Duration::minutes(10);
    let mut delivered = 0;
    while let Some(step) = app.services.try_execute_replay(after_cooldown).await.expect("step") {
        if matches!(step, ReplayStep::Delivered { .. }) {
            delivered += 1;
        }
    }
    assert_eq!(delivered, 3);
    let connectors: Vec<ConnectorEntry> =
        ok(morgan.server_fn("list_connectors", &[]).await).await.json().await.expect("list");
    assert_eq!(connectors[0].breaker, Breaker::Closed { failures: 0 });
    for id in ids {
        assert!(target.per_key().contains_key(&format!("crossdock-ex{id}-v1")));
    }
    assert_eq!(target.seen().len(), 5, "two failures and three deliveries");
}

#[tokio::test]
async fn two_workers_never_hold_one_job_and_a_late_worker_cannot_overwrite_a_newer_state() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[]).await;
    configure(&app, &target, 5, false).await;
    let id = file(&app, &key, "f-6", "SHP-9008").await;
    let sam = app.signed_in("sam").await;
    ok(replay(&sam, id, None).await).await;

    // A worker claims the job and dies before delivering.
    let pool = app.services.pool();
    let now = Utc::now();
    let dead = Lease { token: "dead-worker".into(), until: now + Duration::seconds(5) };
    let held = crossdock_server::store::leases::claim(pool, Work::Replays, now, &dead).await.expect("claim");
    assert!(held.is_some());
    assert_eq!(app.services.try_execute_replay(now).await.expect("step"), None, "a held job is not claimed twice");

    // Once the lease runs out another worker takes it over and delivers.
    let (a, b) = tokio::join!(app.services.try_execute_replay(later()), app.services.try_execute_replay(later()));
    let steps: Vec<_> = [a.expect("step"), b.expect("step")].into_iter().flatten().collect();
    assert_eq!(steps.len(), 1, "two workers at once: only one gets the job");
    assert!(matches!(steps[0], ReplayStep::Delivered { .. }));

    // The dead worker wakes up: nothing it writes lands.
    let job = held.expect("job");
    let mut tx = pool.begin().await.expect("tx");
    let attempt = crossdock_server::store::replay::Attempt {
        number: 1,
        started: now,
        latency_ms: 5,
        outcome: AttemptOutcome::HttpError,
        http_status: Some(500),
        response_head: None,
    };
    assert!(!crossdock_server::store::replay::record_attempt(&mut tx, job, &dead, &attempt).await.expect("write"));
    assert!(
        !crossdock_server::store::replay::finish(&mut tx, job, &dead, JobState::Failed, Some("late"), now)
            .await
            .expect("write")
    );
    assert!(!crossdock_server::store::replay::reschedule(&mut tx, job, &dead, now, Some("late")).await.expect("write"));
    tx.commit().await.expect("commit");
    let view = status(&sam, id).await;
    assert_eq!(view.jobs[0].state, JobState::Succeeded);
    assert_eq!(view.attempts.len(), 1);
    assert_eq!(target.seen().len(), 1);
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_job_loses_nothing_and_delivers_it() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[Reply::Hang(60_000)]).await;
    configure(&app, &target, 5, false).await;
    let morgan = app.signed_in("morgan").await;
    let mut spec = connector(&target.url, Some("Fast"));
    spec["timeout_ms"] = json!(120_000);
    ok(morgan.server_fn_json("save_connector", &json!({"connector": spec})).await).await;
    let sam = app.signed_in("sam").await;
    let mid_delivery = file(&app, &key, "f-7a", "SHP-9009").await;
    ok(replay(&sam, mid_delivery, None).await).await;

    // A worker starts delivering; the target hangs; the server goes down.
    let services = app.services.clone();
    let worker = tokio::spawn(async move { services.try_execute_replay(Utc::now()).await });
    for _ in 0..100 {
        if !target.seen().is_empty() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(target.seen().len(), 1, "the first delivery is on its way");
    worker.abort();
    let queued = file(&app, &key, "f-7b", "SHP-9010").await;
    ok(replay(&sam, queued, None).await).await;
    let app = app.restart(|c| c.replay_workers = 2).await;

    // The queued job is delivered by the new server's workers.
    let sam = app.signed_in("sam").await;
    let mut resolved = false;
    for _ in 0..100 {
        if status(&sam, queued).await.state == Some(ReplayState::Replayed) {
            resolved = true;
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    assert!(resolved, "a queued replay survives a restart");
    // The interrupted one is taken over once its lease runs out.
    let step = app.services.try_execute_replay(Utc::now() + Duration::minutes(10)).await.expect("step");
    assert!(matches!(step, Some(ReplayStep::Delivered { .. })), "{step:?}");
    assert_eq!(status(&sam, mid_delivery).await.state, Some(ReplayState::Replayed));
    assert_eq!(
        target.per_key().get(&format!("crossdock-ex{mid_delivery}-v1")),
        Some(&2),
        "the interrupted delivery and its retry"
    );
    assert_eq!(target.per_key().get(&format!("crossdock-ex{queued}-v1")), Some(&1));
    app.stop().await.expect("stops");
}

#[tokio::test]
async fn a_corrected_message_is_replayed_under_a_new_key_with_the_diff_audited() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[]).await;
    configure(&app, &target, 5, false).await;
    let id = file(&app, &key, "f-8", "SHP-9011").await;
    let sam = app.signed_in("sam").await;

    let bad = replay(&sam, id, Some("{\"shipment\": ")).await;
    assert_eq!(bad.status(), 400);
    let error: AppError = bad.json().await.expect("error");
    assert!(error.for_field("message").is_some_and(|m| m.contains("not valid JSON")), "{error:?}");
    let same = replay(&sam, id, Some("{\"weight_kg\": 12, \"shipment\": \"SHP-9011\"}")).await;
    assert_eq!(same.status(), 400, "a correction must change something");
    let pat = app.signed_in("pat").await;
    let outside = replay(&pat, id, None).await;
    assert_eq!(outside.status(), 404, "not in pat's queues: as if it did not exist");
    let missing = replay(&pat, 999_999, None).await;
    assert_eq!(outside.text().await.unwrap(), missing.text().await.unwrap(), "no queue is named");
    let alex = app.signed_in("alex").await;
    assert_eq!(replay(&alex, id, None).await.status(), 403, "auditors change nothing");

    ok(replay(&sam, id, Some("{\"shipment\": \"SHP-9011\", \"weight_kg\": 12.5}")).await).await;
    assert!(matches!(
        app.services.try_execute_replay(later()).await.expect("step"),
        Some(ReplayStep::Delivered { .. })
    ));
    let seen = target.seen();
    assert_eq!(seen[0].key.as_deref(), Some(format!("crossdock-ex{id}-v2").as_str()));
    assert_eq!(serde_json::from_str::<Value>(&seen[0].body).expect("json")["weight_kg"], json!(12.5));

    let view = status(&sam, id).await;
    assert!(view.original.contains("\"weight_kg\": 12\n"), "the original is kept: {}", view.original);
    assert!(view.current.contains("12.5"));
    assert_eq!(view.changes.len(), 1);
    assert_eq!(view.changes[0].pointer, "/weight_kg");
    let after: String = sqlx::query_scalar("SELECT after FROM audit_log WHERE action = 'exception.message_corrected'")
        .fetch_one(app.services.pool())
        .await
        .expect("the correction is audited");
    let after: Value = serde_json::from_str(&after).expect("json");
    assert_eq!(after["diff"][0]["pointer"], "/weight_kg");
    assert_eq!(after["diff"][0]["before"], 12);
}

#[tokio::test]
async fn staff_replay_in_their_queues_but_only_supervisors_correct_messages() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[]).await;
    configure(&app, &target, 5, false).await;
    let id = file(&app, &key, "f-9", "SHP-9012").await;
    // Move it into a queue pat works in.
    sqlx::query("UPDATE exceptions SET queue = 'receiving' WHERE id = $1")
        .bind(id)
        .execute(app.services.pool())
        .await
        .expect("move");
    let pat = app.signed_in("pat").await;
    assert_eq!(replay(&pat, id, Some("{\"shipment\": \"X\"}")).await.status(), 403);
    ok(replay(&pat, id, None).await).await;
}

#[tokio::test]
async fn automatic_retries_take_new_failures_before_a_person_sees_them() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[Reply::Status(503)]).await;
    configure(&app, &target, 5, true).await;
    let id = file(&app, &key, "f-10", "SHP-9013").await;
    let sam = app.signed_in("sam").await;
    let mut view = status(&sam, id).await;
    for _ in 0..50 {
        if view.state.is_some() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
        view = status(&sam, id).await;
    }
    assert_eq!(view.state, Some(ReplayState::Scheduled));
    assert!(view.jobs[0].automatic);
    assert!(matches!(app.services.try_execute_replay(later()).await.expect("step"), Some(ReplayStep::Retrying { .. })));
    let view = status(&sam, id).await;
    assert!(view.next_attempt_at.is_some_and(|t| t > Utc::now()), "the next attempt time is on the exception");
    assert!(matches!(
        app.services.try_execute_replay(later()).await.expect("step"),
        Some(ReplayStep::Delivered { .. })
    ));

    // A failure the source calls final is left for people.
    let r = app.post_event(&key, &failure("f-11", "SHP-9014", false)).await;
    let other = r.json::<Value>().await.expect("json")["exception_id"].as_i64().expect("id");
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(status(&sam, other).await.state, None);
}

#[tokio::test]
async fn connectors_are_checked_on_save_and_their_secret_never_shown() {
    let (app, _) = replay_app().await;
    let morgan = app.signed_in("morgan").await;
    let mut bad = connector("ftp://carrier.example/api", None);
    bad["timeout_ms"] = json!(10);
    bad["headers"] = json!({"bad header": "x"});
    let r = morgan.server_fn_json("save_connector", &json!({"connector": bad, "secret": SECRET})).await;
    assert_eq!(r.status(), 400);
    let error: AppError = r.json().await.expect("error");
    for field in ["url", "timeout_ms", "headers/bad header"] {
        assert!(error.for_field(field).is_some(), "{field}: {error:?}");
    }
    let missing_policy = morgan
        .server_fn_json("save_connector", &json!({"connector": connector("https://carrier.example/api", Some("Nope"))}))
        .await;
    assert_eq!(missing_policy.status(), 400);
    let not_json = morgan.server_fn_json("save_connector", &json!({"connector": {"name": 1}})).await;
    assert_eq!(not_json.status(), 400);

    ok(morgan
        .server_fn_json(
            "save_connector",
            &json!({"connector": connector("https://carrier.example/api", None), "secret": SECRET}),
        )
        .await)
    .await;
    let listed = ok(morgan.server_fn("list_connectors", &[]).await).await.text().await.expect("text");
    assert!(listed.contains("carrier.example") && !listed.contains("carrier-token"), "{listed}");
    let at_rest: String = sqlx::query_scalar("SELECT secret FROM connectors WHERE name = 'TMS shipments'")
        .fetch_one(app.services.pool())
        .await
        .expect("stored");
    assert!(at_rest.starts_with("sealed:v1:") && !at_rest.contains("carrier-token"), "sealed at rest");
    let sam = app.signed_in("sam").await;
    assert_eq!(sam.server_fn("list_connectors", &[]).await.status(), 403);
    assert_eq!(
        sam.server_fn_json("save_connector", &json!({"connector": connector("https://x.example", None)}))
            .await
            .status(),
        403
    );

    let bad_policy = policy("", 0, false);
    let r = morgan.server_fn_json("save_retry_policy", &json!({"policy": bad_policy})).await;
    let error: AppError = r.json().await.expect("error");
    assert!(error.for_field("name").is_some() && error.for_field("max_attempts").is_some(), "{error:?}");
    ok(morgan.server_fn_json("save_retry_policy", &json!({"policy": policy("Patient", 8, false)})).await).await;
    ok(morgan.server_fn("set_queue_retry_policy", &[("queue", "transportation"), ("policy", "Patient")]).await).await;
    assert_eq!(
        morgan.server_fn("set_queue_retry_policy", &[("queue", "nowhere"), ("policy", "Patient")]).await.status(),
        400
    );
    let listed: crossdock_app::dto::RetryPolicies =
        ok(morgan.server_fn("list_retry_policies", &[]).await).await.json().await.expect("list");
    assert_eq!(listed.queue_policies, [("transportation".to_owned(), "Patient".to_owned())]);

    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT COALESCE(before, '') || COALESCE(after, '') FROM audit_log WHERE entity = 'connector' \
         AND entity_id = 'TMS shipments'",
    )
    .fetch_all(app.services.pool())
    .await
    .expect("audit");
    assert_eq!(audit.len(), 1);
    assert!(!audit[0].contains("carrier-token") && audit[0].contains("replaced"));
}

#[tokio::test]
async fn a_bulk_replay_queues_each_integration_failure_and_skips_the_rest() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[]).await;
    configure(&app, &target, 5, false).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(file(&app, &key, &format!("b-{i}"), &format!("SHP-95{i:02}")).await);
    }
    let other: i64 = app.scalar("SELECT id FROM exceptions WHERE kind = 'exception.partial_receipt' LIMIT 1").await;
    ids.push(other);
    let sam = app.signed_in("sam").await;
    let r = ok(sam
        .server_fn_json(
            "start_bulk",
            &json!({"target": {"target": "selected", "ids": ids}, "action": {"kind": "replay"}}),
        )
        .await)
    .await;
    let job: i64 = r.json().await.expect("job");
    let mut bulk: crossdock::triage::BulkJob;
    let deadline = std::time::Instant::now() + StdDuration::from_secs(60);
    loop {
        bulk = ok(sam.server_fn("bulk_status", &[("job", &job.to_string())]).await).await.json().await.expect("bulk");
        if bulk.finished {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the bulk replay never finished: {bulk:?}");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let outcome = |id: i64| bulk.items.iter().find(|i| i.exception.get() == id).and_then(|i| i.outcome);
    assert_eq!(outcome(other), Some(BulkOutcome::Skipped), "{:?}", bulk.items);
    assert!(ids[..20].iter().all(|id| outcome(*id) == Some(BulkOutcome::Done)));
    let queued: i64 = app.scalar("SELECT COUNT(*) FROM replay_jobs WHERE state = 'pending'").await;
    assert_eq!(queued, 20);
}
