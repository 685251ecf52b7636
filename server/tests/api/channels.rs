//! Outward notifications: channels admins set up, each person's choice of
//! what goes outward, signed JSON webhooks, Slack and Teams payloads, and
//! retried deliveries whose every attempt admins can read, against real
//! HTTP receivers on 127.0.0.1.

use chrono::{Duration, Utc};
use crossdock::channel::{DeliveryState, bits_of_levels};
use crossdock::replay::AttemptOutcome;
use crossdock_app::AppError;
use crossdock_app::dto::{ChannelsView, OutwardChoice};
use crossdock_server::services::DeliveryStep;
use crossdock_server::services::ingest::signature;
use secrecy::SecretSlice;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, spawn_quiet_demo};
use crate::replay::{Reply, Target};

/// Demo data; nothing sweeps or delivers unless the test says so.
async fn quiet_demo() -> TestApp {
    spawn_quiet_demo(|c| c.delivery_workers = 0).await
}

async fn save(admin: &Browser, spec: Value) -> reqwest::Response {
    admin.server_fn_json("save_channel", &json!({"spec": spec})).await
}

async fn view(admin: &Browser) -> ChannelsView {
    admin.server_fn("channels", &[]).await.json().await.expect("the channels view")
}

async fn choose(person: &Browser, levels: Value) -> OutwardChoice {
    let r = person.server_fn_json("set_outward", &json!({"levels": levels})).await;
    assert_eq!(r.status(), 200);
    r.json().await.expect("the outward choice")
}

/// Runs the delivery worker's steps at `at` until nothing is due.
async fn deliver_all(app: &TestApp, at: chrono::DateTime<Utc>) -> Vec<DeliveryStep> {
    let mut steps = Vec::new();
    while let Some(step) = app.services.try_deliver_notification(at).await.expect("a delivery step") {
        steps.push(step);
        assert!(steps.len() < 1000, "the worker does not loop");
    }
    steps
}

fn verified(seen: &crate::replay::Seen, secret: &str) -> bool {
    let key = signature::decode_secret(secret).expect("a whsec_ secret");
    let header = |n: &str| seen.headers.get(n).and_then(|v| v.to_str().ok());
    signature::verify(
        &[SecretSlice::from(key)],
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
        seen.body.as_bytes(),
        Utc::now(),
    )
    .is_ok()
}

#[tokio::test]
async fn a_breach_reaches_a_signed_webhook_for_the_people_who_chose_it_and_is_retried_until_delivered() {
    let app = quiet_demo().await;
    let target = Target::start(&[Reply::Status(503)]).await;
    let admin = app.signed_in("morgan").await;
    let r = save(
        &admin,
        json!({"name": "ops-hook", "kind": "webhook", "url": target.url, "levels": ["breached"], "queues": ["receiving"]}),
    )
    .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let secret: Option<String> = r.json().await.unwrap();
    let secret = secret.expect("a new signed channel shows its secret once");
    assert!(secret.starts_with("whsec_"));
    let again: Option<String> = save(
        &admin,
        json!({"name": "ops-hook", "kind": "webhook", "url": target.url, "levels": ["breached"], "queues": ["receiving"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(again, None, "saving again keeps the secret and does not show it");

    let sam = app.signed_in("sam").await;
    let chosen = choose(&sam, json!(["breached"])).await;
    assert_eq!(chosen.levels, [crossdock::escalation::EscalationLevel::Breached].into());
    assert_eq!(chosen.channels.len(), 1, "the person sees the channel in service");

    let later = app.services.now() + Duration::days(10);
    let open_in_receiving = app
        .scalar("SELECT COUNT(*) FROM exceptions WHERE queue = 'receiving' AND status IN ('new', 'acknowledged', 'in_progress') AND sla_frozen IS NULL AND sla_due_at IS NOT NULL AND (escalated & 2) = 0")
        .await;
    assert!(open_in_receiving > 0, "the demo has receiving work to breach");
    let report = app.services.sweep_escalations(later).await.unwrap().expect("the lease");
    assert!(report.outward > 0, "{report:?}");
    let queued = app.scalar("SELECT COUNT(*) FROM notification_deliveries WHERE state = 'pending'").await;
    assert_eq!(queued, report.outward as i64, "one message per breach in receiving, queued, not yet sent");
    assert!(target.seen().is_empty(), "the sweep sends nothing itself");
    let other_queues = app
        .scalar("SELECT COUNT(*) FROM notification_deliveries d JOIN exceptions e ON e.id = d.exception_id WHERE e.queue <> 'receiving'")
        .await;
    assert_eq!(other_queues, 0, "the channel carries receiving only");

    // The first attempt meets a 503 and is scheduled again (its wait has
    // passed by the sweep's instant, ten days on); everything goes through.
    let steps = deliver_all(&app, later).await;
    assert!(matches!(steps.first(), Some(DeliveryStep::Retrying { .. })), "{steps:?}");
    let delivered = steps.iter().filter(|s| matches!(s, DeliveryStep::Delivered { .. })).count();
    assert_eq!(delivered as i64, queued, "{steps:?}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM notification_deliveries WHERE state = 'delivered'").await, queued);

    let seen = target.seen();
    assert_eq!(seen.len() as i64, queued + 1);
    for s in &seen {
        assert!(verified(s, &secret), "each message verifies with the channel's secret");
        let body: Value = serde_json::from_str(&s.body).unwrap();
        assert_eq!(body["type"], "notification.breached");
        assert_eq!(body["data"]["recipients"][0]["username"], "sam");
        assert_eq!(body["data"]["exception"]["queue"], "receiving");
        let url = body["data"]["exception"]["url"].as_str().unwrap();
        assert!(url.starts_with("http") && url.contains("/exceptions/"), "{url}");
    }
    let ids: std::collections::BTreeSet<_> =
        seen.iter().map(|s| s.headers.get("webhook-id").unwrap().to_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len() as i64, queued, "a retry keeps its message's id, so receivers can drop the double");

    // Admins read every attempt.
    let listed = view(&admin).await;
    let retried = listed.deliveries.iter().find(|d| d.attempts.len() == 2).expect("the retried delivery");
    assert_eq!(retried.state, DeliveryState::Delivered);
    assert_eq!(retried.attempts[0].http_status, Some(503));
    assert_eq!(retried.attempts[0].outcome, AttemptOutcome::HttpError);
    assert_eq!(retried.attempts[1].outcome, AttemptOutcome::Delivered);

    // A new secret signs from now on; the old one no longer verifies.
    let rotated: String = admin.server_fn("rotate_channel_secret", &[("name", "ops-hook")]).await.json().await.unwrap();
    admin.server_fn("test_channel", &[("name", "ops-hook")]).await.error_for_status().unwrap();
    deliver_all(&app, later + Duration::hours(2)).await;
    let test = target.seen().pop().unwrap();
    assert_eq!(serde_json::from_str::<Value>(&test.body).unwrap()["type"], "notification.test");
    assert!(verified(&test, &rotated) && !verified(&test, &secret));
    let audit = app.scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'channel'").await;
    assert_eq!(audit, 4, "created, saved, secret rotated, tested");
}

#[tokio::test]
async fn slack_and_teams_get_their_own_payloads_unsigned_and_nothing_goes_to_people_who_did_not_choose_it() {
    let app = quiet_demo().await;
    let slack = Target::start(&[]).await;
    let teams = Target::start(&[]).await;
    let admin = app.signed_in("morgan").await;
    for (name, kind, url) in [("floor-slack", "slack", &slack.url), ("floor-teams", "teams", &teams.url)] {
        let r = save(&admin, json!({"name": name, "kind": kind, "url": url})).await;
        assert_eq!(r.status(), 200);
        let secret: Option<String> = r.json().await.unwrap();
        assert_eq!(secret, None, "Slack and Teams messages are not signed");
    }
    // Nobody chose anything outward: the sweep queues nothing.
    let later = app.services.now() + Duration::days(10);
    let report = app.services.sweep_escalations(later).await.unwrap().expect("the lease");
    assert!(report.breached > 0 && report.notifications > 0);
    assert_eq!(report.outward, 0);

    // Pat chooses at risk too late for this sweep; the next breach of one
    // of Pat's exceptions still goes nowhere but the console unless chosen.
    let pat = app.signed_in("pat").await;
    let chose = choose(&pat, json!(["at_risk", "unacknowledged"])).await;
    assert_eq!(chose.levels.len(), 2);
    assert_eq!(bits_of_levels(&chose.levels), 5);
    assert_eq!(choose(&pat, json!([])).await.levels.len(), 0, "a person may send nothing outward");

    for name in ["floor-slack", "floor-teams"] {
        admin.server_fn("test_channel", &[("name", name)]).await.error_for_status().unwrap();
    }
    deliver_all(&app, later).await;
    let slack_seen = slack.seen();
    let teams_seen = teams.seen();
    assert_eq!((slack_seen.len(), teams_seen.len()), (1, 1));
    for s in slack_seen.iter().chain(&teams_seen) {
        assert!(s.headers.get("webhook-signature").is_none());
        assert_eq!(s.headers.get("content-type").unwrap(), "application/json");
    }
    let slack_body: Value = serde_json::from_str(&slack_seen[0].body).unwrap();
    assert_eq!(slack_body["blocks"][0]["type"], "section");
    assert!(slack_body["text"].as_str().unwrap().contains("A test message to floor-slack"));
    let teams_body: Value = serde_json::from_str(&teams_seen[0].body).unwrap();
    assert_eq!(teams_body["attachments"][0]["content"]["type"], "AdaptiveCard");
}

#[tokio::test]
async fn refused_timed_out_and_orphaned_messages_end_as_their_policy_says() {
    let app = quiet_demo().await;
    let target = Target::start(&[Reply::Status(400), Reply::Hang(2_000)]).await;
    let admin = app.signed_in("morgan").await;
    let r = save(&admin, json!({"name": "strict", "kind": "slack", "url": target.url, "timeout_ms": 200})).await;
    assert_eq!(r.status(), 200);
    // Past every queued message, short of any retry's wait.
    let now = app.services.now() + Duration::seconds(5);

    // A refusal is final: one attempt, failed.
    admin.server_fn("test_channel", &[("name", "strict")]).await.error_for_status().unwrap();
    let steps = deliver_all(&app, now).await;
    assert!(matches!(steps.as_slice(), [DeliveryStep::Failed { .. }]), "{steps:?}");
    // No answer within the timeout: retried later.
    admin.server_fn("test_channel", &[("name", "strict")]).await.error_for_status().unwrap();
    let steps = deliver_all(&app, now).await;
    assert!(matches!(steps.as_slice(), [DeliveryStep::Retrying { .. }]), "{steps:?}");
    let listed = view(&admin).await;
    assert_eq!(listed.deliveries[0].attempts[0].outcome, AttemptOutcome::Timeout);
    assert!(listed.deliveries[0].next_attempt_at.is_some());
    assert_eq!(listed.deliveries[1].state, DeliveryState::Failed);
    assert!(listed.deliveries[1].last_error.as_deref().unwrap().contains("HTTP 400"));

    // Deleting the channel fails what still waits for it.
    admin.server_fn("delete_channel", &[("name", "strict")]).await.error_for_status().unwrap();
    assert!(deliver_all(&app, now + Duration::days(1)).await.is_empty());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM notification_deliveries WHERE state = 'failed'").await, 2);
}

#[tokio::test]
async fn bad_channels_are_refused_field_by_field_and_only_admins_manage_them() {
    let app = quiet_demo().await;
    let admin = app.signed_in("morgan").await;
    let r = save(&admin, json!({"name": "", "kind": "webhook", "url": "ftp://x", "levels": [], "timeout_ms": 5})).await;
    assert_eq!(r.status(), 400);
    let error: AppError = r.json().await.unwrap();
    let AppError::Fields(fields) = error else { panic!("field errors: {error:?}") };
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["name", "url", "levels", "timeout_ms"]);
    for (spec, field) in [
        (json!({"name": "a", "kind": "slack", "url": "https://h.example.com", "retry_policy": "nope"}), "retry_policy"),
        (json!({"name": "a", "kind": "slack", "url": "https://h.example.com", "queues": ["nowhere"]}), "queues"),
    ] {
        let r = save(&admin, spec).await;
        assert_eq!(r.status(), 400);
        let error: AppError = r.json().await.unwrap();
        assert!(error.for_field(field).is_some(), "{error:?}");
    }
    let r = save(&admin, json!({"name": "a", "kind": "pager", "url": "https://h.example.com"})).await;
    assert_eq!(r.status(), 400, "an unknown kind is refused");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM notification_channels").await, 0, "nothing half-saved");

    for who in ["pat", "sam", "alex"] {
        let b = app.signed_in(who).await;
        assert_eq!(b.server_fn("channels", &[]).await.status(), 403, "{who}");
        let r = save(&b, json!({"name": "a", "kind": "slack", "url": "https://h.example.com"})).await;
        assert_eq!(r.status(), 403, "{who}");
    }
    assert_eq!(admin.server_fn("test_channel", &[("name", "ghost")]).await.status(), 404);
    assert_eq!(app.browser().server_fn("outward", &[]).await.status(), 401, "the outward choice is a person's own");
}
