//! Escalations: each level fires once per exception, from a sweep that
//! survives restarts and that two instances never both run; people find
//! their notifications in the console.

use chrono::Duration;
use crossdock::audit::AuditAction;
use crossdock_app::dto::Notifications;
use serde_json::json;

use crate::helpers::{TestApp, spawn_quiet_demo};

async fn demo_without_sweeps() -> TestApp {
    spawn_quiet_demo(|_| {}).await
}

#[tokio::test]
async fn each_level_fires_once_and_does_what_the_queue_policy_says() {
    let app = demo_without_sweeps().await;
    let seeded_steps = app.scalar("SELECT COUNT(*) FROM escalation_steps").await;
    assert!(seeded_steps > 0, "the demo morning has escalations already");
    let demo_notes = app.scalar("SELECT COUNT(*) FROM notifications").await;
    assert!(demo_notes > 0);

    // Ten days on, every running clock is breached.
    let later = app.services.now() + Duration::days(10);
    let billing_open = app
        .scalar("SELECT COUNT(*) FROM exceptions WHERE queue = 'billing' AND status IN ('new', 'acknowledged', 'in_progress') AND (escalated & 2) = 0")
        .await;
    let moves = "SELECT COUNT(*) FROM audit_log WHERE actor = 'system:escalation' AND action = 'exception.assigned'";
    // The demo morning may have moved some already, by the time of day it is seeded.
    let moved_before = app.scalar(moves).await;
    let report = app.services.sweep_escalations(later).await.unwrap().expect("the lease");
    assert!(report.breached > 0, "{report:?}");
    let again = app.services.sweep_escalations(later).await.unwrap().expect("the lease");
    assert_eq!(again.breached + again.at_risk + again.notifications, 0, "nothing fires twice: {again:?}");
    let restarted = app.restarted_services().await;
    let after_restart = restarted.sweep_escalations(later + Duration::minutes(1)).await.unwrap().expect("the lease");
    assert_eq!(after_restart.breached + after_restart.at_risk, 0, "a restart fires nothing again");

    let duplicates = app
        .scalar("SELECT COUNT(*) FROM (SELECT user_id, exception_id, kind FROM notifications GROUP BY 1, 2, 3 HAVING COUNT(*) > 1) twice")
        .await;
    assert_eq!(duplicates, 0);
    let escalated = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = '{}' AND actor = 'system:escalation'",
            AuditAction::ExceptionEscalated
        ))
        .await;
    assert!(escalated >= report.breached as i64);
    // Billing's breaches move to purchasing, unassigned; transportation's
    // become more severe.
    if billing_open > 0 {
        let moved = app.scalar(moves).await - moved_before;
        assert_eq!(moved, billing_open, "each billing breach moved once");
    }
    let raised = app
        .scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'exception.escalated' AND reason LIKE '%severity raised%'",
        )
        .await;
    assert!(raised > 0, "transportation raises severity");
    let never_breached_again = app
        .scalar("SELECT COUNT(*) FROM exceptions WHERE status IN ('new', 'acknowledged', 'in_progress') AND sla_frozen IS NULL AND sla_due_at IS NOT NULL AND (escalated & 2) = 0")
        .await;
    assert_eq!(never_breached_again, 0, "every running clock's breach fired");
}

#[tokio::test]
async fn two_instances_sweeping_at_once_fire_each_step_once() {
    let app = demo_without_sweeps().await;
    let other = app.restarted_services().await;
    let breaches = "SELECT COUNT(*) FROM audit_log WHERE action = 'exception.escalated' AND reason LIKE 'Breached%'";
    let seeded = app.scalar(breaches).await;
    let later = app.services.now() + Duration::days(10);
    let (a, b) = tokio::join!(app.services.sweep_escalations(later), other.sweep_escalations(later));
    let (a, b) = (a.unwrap(), b.unwrap());
    let fired = a.map_or(0, |r| r.breached) + b.map_or(0, |r| r.breached);
    let steps = app.scalar(breaches).await - seeded;
    assert!(fired > 0);
    assert_eq!(fired as i64, steps, "every breach recorded once: {a:?} {b:?}");
    let duplicates = app
        .scalar("SELECT COUNT(*) FROM (SELECT user_id, exception_id, kind FROM notifications GROUP BY 1, 2, 3 HAVING COUNT(*) > 1) twice")
        .await;
    assert_eq!(duplicates, 0);
}

#[tokio::test]
async fn new_work_nobody_acknowledges_notifies_the_queue_and_the_bell_shows_it() {
    let app = demo_without_sweeps().await;
    let key = app.source("escwms", "esc-wms/", 1000.0, 100).await;
    let event = json!({"specversion": "1.0", "id": "esc-1", "source": "esc-wms/dal", "type": "exception.partial_receipt",
        "time": "2026-12-01T15:42:10Z", "data": {"site": "DC-DAL", "po": "PO-99001", "line": 1, "item": "SKU-7",
        "expected_qty": 10, "received_qty": 4}});
    let r = app.post_event(&key, &event).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let id = app.scalar("SELECT id FROM exceptions WHERE summary LIKE '%PO-99001%'").await;
    let queue = app.scalar(&format!("SELECT queue = 'receiving' FROM exceptions WHERE id = {id}")).await;
    assert_eq!(queue, 1, "partial receipts at DC-DAL go to receiving");

    let pat = app.signed_in("pat").await;
    let before: Notifications = pat.server_fn("notifications", &[]).await.json().await.unwrap();
    // Receiving's policy: 30 business minutes. A week on is past that
    // whatever the hours.
    let later = app.services.now() + Duration::days(7);
    app.services.sweep_escalations(later).await.unwrap().expect("the lease");
    let steps = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM escalation_steps WHERE exception_id = {id} AND level = 'unacknowledged'"
        ))
        .await;
    assert_eq!(steps, 1);
    let after: Notifications = pat.server_fn("notifications", &[]).await.json().await.unwrap();
    assert!(after.unread > before.unread);
    let note = after.items.iter().find(|n| n.exception_id == Some(id) && n.kind.as_str() == "unacknowledged");
    let note = note.expect("pat, a member of receiving, is told");
    assert!(note.title.contains(&format!("EX-{id}")) && !note.read);

    let r = pat.server_fn("mark_read", &[("id", &note.id.to_string())]).await;
    assert_eq!(r.status(), 200);
    let read: Notifications = pat.server_fn("notifications", &[]).await.json().await.unwrap();
    assert_eq!(read.unread, after.unread - 1);
    // Another person's notification is not pat's to mark.
    let sam_note = app
        .scalar("SELECT n.id FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = 'sam' AND n.read_at IS NULL LIMIT 1")
        .await;
    pat.server_fn("mark_read", &[("id", &sam_note.to_string())]).await;
    assert_eq!(app.scalar(&format!("SELECT read_at IS NULL FROM notifications WHERE id = {sam_note}")).await, 1);
    assert_eq!(pat.server_fn("mark_read", &[]).await.status(), 200);
    let none: Notifications = pat.server_fn("notifications", &[]).await.json().await.unwrap();
    assert_eq!(none.unread, 0);
    assert_eq!(app.browser().server_fn("notifications", &[]).await.status(), 401);
}

#[tokio::test]
async fn escalation_policies_are_checked_versioned_and_audited() {
    let app = demo_without_sweeps().await;
    let morgan = app.signed_in("morgan").await;
    let bad = json!({"escalations": {"policies": [
        {"queue": "receiving", "move_to": "receiving"},
        {"queue": "nowhere"},
        {"queue": "billing", "unacknowledged_minutes": 0}
    ]}});
    let r = morgan.server_fn_json("save_escalations", &bad).await;
    assert_eq!(r.status(), 400);
    let error: crossdock_app::AppError = r.json().await.unwrap();
    for field in ["policies/0/move_to", "policies/1/queue", "policies/2/unacknowledged_minutes"] {
        assert!(error.for_field(field).is_some(), "{field}: {error:?}");
    }
    let good = json!({"escalations": {"policies": [{"queue": "receiving", "raise_severity": true, "unacknowledged_minutes": 15}]}});
    assert_eq!(morgan.server_fn_json("save_escalations", &good).await.status(), 200);
    let set: crossdock::escalation::EscalationSet = morgan.server_fn("escalations", &[]).await.json().await.unwrap();
    assert_eq!(set.for_queue("receiving").unacknowledged_minutes, Some(15));
    assert!(set.for_queue("transportation").notify_breached, "other queues follow the defaults");
    let versions = app.scalar("SELECT COUNT(*) FROM config_versions WHERE kind = 'escalations'").await;
    assert_eq!(versions, 2, "the demo's and this one");
    let sam = app.signed_in("sam").await;
    assert_eq!(sam.server_fn_json("save_escalations", &good).await.status(), 403);
}

#[tokio::test]
async fn once_acknowledged_the_resolve_clock_escalates_in_its_turn() {
    let app = demo_without_sweeps().await;
    // A new exception whose acknowledge clock breached this morning.
    let id = app
        .scalar(
            "SELECT e.id FROM exceptions e JOIN escalation_steps s ON s.exception_id = e.id \
                 WHERE e.status = 'new' AND s.level = 'breached' AND s.clock = 'acknowledge' ORDER BY e.id LIMIT 1",
        )
        .await;
    let sam = app.signed_in("sam").await;
    let version = app.scalar(&format!("SELECT version FROM exceptions WHERE id = {id}")).await;
    let r = sam
        .server_fn_json(
            "act",
            &json!({"id": id, "seen": version, "action": {"kind": "status", "action": "acknowledge"}}),
        )
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let bits = app.scalar(&format!("SELECT escalated & 3 FROM exceptions WHERE id = {id}")).await;
    assert_eq!(bits, 0, "the resolve clock has not escalated yet");

    app.services.sweep_escalations(app.services.now() + Duration::days(20)).await.unwrap().expect("the lease");
    let steps = app
        .scalar(&format!("SELECT COUNT(*) FROM escalation_steps WHERE exception_id = {id} AND clock = 'resolve' AND level = 'breached'"))
        .await;
    assert_eq!(steps, 1, "its resolve clock breached and was escalated once");
    let sweeps_again = app.services.sweep_escalations(app.services.now() + Duration::days(21)).await.unwrap();
    assert_eq!(sweeps_again.map(|r| r.breached), Some(0));
}
