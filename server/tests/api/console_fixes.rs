//! What staff, supervisors and admins hit in a day's work: claiming,
//! waiting, moving between queues, finding closed work, counts, signing in
//! to the page one asked for, testing and deleting connectors, the demo.

use crossdock::sla::SlaState;
use crossdock::triage::{QueueCounts, QueuePage};
use crossdock::{RefKind, Status};
use crossdock_app::AppError;
use crossdock_app::dto::{ConnectorEntry, ConnectorTestView, ExceptionDetailView, MovePreviewView};
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, spawn_app_with, spawn_app_with_demo};

async fn page(b: &Browser, query: &str) -> QueuePage {
    let r = b.server_fn("queue_page", &[("query", query)]).await;
    assert_eq!(r.status(), 200, "{query}: {:?}", r.text().await);
    r.json().await.expect("a page")
}

async fn act(b: &Browser, id: i64, seen: Option<i64>, action: Value) -> reqwest::Response {
    b.server_fn_json("act", &json!({"id": id, "seen": seen, "action": action})).await
}

async fn detail(b: &Browser, id: i64) -> ExceptionDetailView {
    let r = b.server_fn("exception_detail", &[("id", &id.to_string())]).await;
    assert_eq!(r.status(), 200);
    r.json().await.expect("a detail")
}

/// Files a fresh partial receipt at DC-DAL; its exception id.
async fn fresh_receipt(app: &TestApp, id: &str, po: &str) -> i64 {
    let key = app.source(&format!("src-{id}"), &format!("t-wms/{id}"), 1000.0, 1000).await;
    let event = json!({"specversion": "1.0", "id": id, "source": format!("t-wms/{id}"), "type": "exception.partial_receipt",
        "time": "2026-11-24T15:42:10Z", "data": {"site": "DC-DAL", "po": po, "line": 1, "item": "SKU-1",
        "expected_qty": 96, "received_qty": 48}});
    let filed: Value = app.post_event(&key, &event).await.json().await.expect("json");
    filed["exception_id"].as_i64().expect("an exception")
}

#[tokio::test]
async fn claiming_new_work_acknowledges_it_and_claiming_it_again_is_refused() {
    let app = spawn_app_with_demo().await;
    let pat = app.signed_in("pat").await;
    let id = fresh_receipt(&app, "c-1", "PO-70001").await;
    let version = detail(&pat, id).await.item.version;
    assert_eq!(act(&pat, id, Some(version), json!({"kind": "claim"})).await.status(), 200);
    let claimed = detail(&pat, id).await;
    assert_eq!(claimed.item.status, Status::Acknowledged, "taking ownership is the acknowledgement");
    assert_eq!(claimed.item.assignee.as_deref(), Some("pat"));
    assert_eq!(claimed.acknowledge.frozen, Some(SlaState::Met), "the acknowledge clock stopped");
    assert!(!claimed.offered.contains(&crossdock::triage::ChangeKind::Claim), "nobody is offered a claim of their own");
    let again = act(&pat, id, Some(claimed.item.version), json!({"kind": "claim"})).await;
    assert_eq!(again.status(), 400);
    assert_eq!(again.json::<AppError>().await.expect("error").to_string(), format!("EX-{id} is yours already"));
    let claims = app
        .scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'exception.claimed' AND entity_id = '{id}'"))
        .await;
    assert_eq!(claims, 1, "the refused claim wrote nothing");
}

#[tokio::test]
async fn waiting_on_a_supplier_can_start_at_once_and_pauses_the_clock() {
    let app = spawn_app_with_demo().await;
    let pat = app.signed_in("pat").await;
    let id = fresh_receipt(&app, "w-1", "PO-70002").await;
    let version = detail(&pat, id).await.item.version;
    let wait = json!({"kind": "status", "action": "wait", "party": "supplier", "reason": "asked for the missing 48"});
    assert_eq!(act(&pat, id, Some(version), wait).await.status(), 200, "straight from new");
    let waiting = detail(&pat, id).await;
    assert_eq!(waiting.item.status, Status::Waiting);
    assert_eq!(waiting.resolve.frozen, Some(SlaState::Paused));
    assert!(waiting.waiting_since.is_some(), "the page says since when");
}

#[tokio::test]
async fn a_move_shows_what_it_does_to_the_deadlines_first_and_records_them() {
    let app = spawn_app_with_demo().await;
    let sam = app.signed_in("sam").await;
    let id = fresh_receipt(&app, "m-1", "PO-70003").await;
    let before = detail(&sam, id).await;
    let preview: MovePreviewView = sam
        .server_fn("preview_move", &[("id", &id.to_string()), ("queue", "purchasing")])
        .await
        .json()
        .await
        .expect("a preview");
    assert_eq!((preview.from.as_str(), preview.to.as_str()), ("receiving", "purchasing"));
    assert_eq!(preview.before.resolve, before.resolve.due_at);
    assert!(preview.calendar.starts_with("America/New_York"), "{}", preview.calendar);
    assert_eq!(app.scalar(&format!("SELECT version FROM exceptions WHERE id = {id}")).await, before.item.version);

    let moved = act(
        &sam,
        id,
        Some(before.item.version),
        json!({"kind": "assign", "assignee": null, "queue": "purchasing", "reason": "the buyer handles shortages"}),
    )
    .await;
    assert_eq!(moved.status(), 200);
    let after = detail(&sam, id).await;
    // Within business hours the deadline runs from the instant of the move,
    // a moment after the preview's.
    let (done, said) = (after.resolve.due_at.unwrap(), preview.after.resolve.unwrap());
    assert!((done - said).num_seconds().abs() < 5, "the preview said what the move did: {said} then {done}");
    let line = after.timeline.iter().find(|e| e.action == crossdock::audit::AuditAction::ExceptionAssigned).unwrap();
    let fields: Vec<&str> = line.changes.iter().map(|c| c.field.as_str()).collect();
    assert!(fields.contains(&"queue"), "{fields:?}");
    // Both calendars open: the deadline runs the same from either queue, and
    // only a deadline that moved is recorded as moved.
    let to_second = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.timestamp());
    let moved_due = to_second(before.resolve.due_at) != to_second(after.resolve.due_at);
    assert_eq!(fields.contains(&"resolve due"), moved_due, "{fields:?}");
    let bad = sam.server_fn("preview_move", &[("id", &id.to_string()), ("queue", "nowhere")]).await;
    assert_eq!(bad.status(), 400);
    let pat = app.signed_in("pat").await;
    let out_of_reach = pat.server_fn("preview_move", &[("id", &id.to_string()), ("queue", "receiving")]).await;
    assert_eq!(out_of_reach.status(), 404, "pat does not work in purchasing");
}

#[tokio::test]
async fn any_status_finds_closed_work_and_open_is_the_default() {
    let app = spawn_app_with_demo().await;
    let sam = app.signed_in("sam").await;
    assert!(page(&sam, "q=PO-10100").await.items.is_empty(), "the demo resolved it this morning");
    let any = page(&sam, "q=PO-10100&status=any").await;
    assert_eq!(any.items.len(), 1);
    assert_eq!(any.items[0].status, Status::Resolved);
}

#[tokio::test]
async fn the_counts_list_every_queue_in_reach_even_empty_ones() {
    let app = spawn_app_with_demo().await;
    let counts: QueueCounts = app.signed_in("sam").await.server_fn("queue_counts", &[]).await.json().await.unwrap();
    assert!(counts.by_queue.contains(&("triage".to_owned(), 0)), "{:?}", counts.by_queue);
    let pat: QueueCounts = app.signed_in("pat").await.server_fn("queue_counts", &[]).await.json().await.unwrap();
    let queues: Vec<&str> = pat.by_queue.iter().map(|(q, _)| q.as_str()).collect();
    assert_eq!(queues, ["inventory-control", "receiving"]);
}

#[tokio::test]
async fn signing_in_returns_to_the_page_asked_for_and_never_to_another_site() {
    let app = spawn_app_with_demo().await;
    let browser = app.browser();
    let asked = browser.get("/exceptions/4?do=claim").await;
    assert_eq!(asked.status(), 302);
    assert_eq!(asked.headers()["location"], "/login?next=%2Fexceptions%2F4%3Fdo%3Dclaim");
    let password = crate::helpers::demo_password("sam");
    let signed = browser
        .server_fn("login", &[("username", "sam"), ("password", password), ("next", "/exceptions/4?do=claim")])
        .await;
    assert_eq!(signed.headers()["location"], "/exceptions/4?do=claim");
    let elsewhere = app
        .browser()
        .server_fn("login", &[("username", "sam"), ("password", password), ("next", "//evil.example/")])
        .await;
    assert_eq!(elsewhere.headers()["location"], "/");
}

#[tokio::test]
async fn the_demo_is_a_working_morning_whenever_it_is_seeded() {
    let app = spawn_app_with_demo().await;
    let sam = app.signed_in("sam").await;
    let counts: QueueCounts = sam.server_fn("queue_counts", &[]).await.json().await.unwrap();
    let states: Vec<SlaState> = counts.by_sla.iter().map(|(s, _)| *s).collect();
    for state in [SlaState::OnTrack, SlaState::AtRisk, SlaState::Breached] {
        assert!(states.contains(&state), "{state:?} missing from {states:?}");
    }
    let waiting = page(&sam, "status=waiting").await;
    assert!(!waiting.items.is_empty(), "someone waits on a supplier");
    let resolved = page(&sam, "status=resolved").await;
    assert!(!resolved.items.is_empty(), "work was resolved this morning");
    // Nothing on a timeline is dated in the future or after it was filed... late.
    let latest = app.scalar("SELECT MAX(at) FROM audit_log").await;
    assert!(latest <= chrono::Utc::now().timestamp_millis());
    let filed_after_due = app
        .scalar(
            "SELECT COUNT(*) FROM audit_log a JOIN exceptions e ON a.entity_id = CAST(e.id AS TEXT) \
             WHERE a.action = 'exception.filed' AND e.ack_due_at IS NOT NULL AND a.at > e.ack_due_at",
        )
        .await;
    assert_eq!(filed_after_due, 0, "each exception was filed before its acknowledgement was due");
    let connectors: Vec<ConnectorEntry> =
        app.signed_in("morgan").await.server_fn("list_connectors", &[]).await.json().await.unwrap();
    let systems: Vec<&str> = connectors.iter().map(|c| c.spec.system.as_str()).collect();
    assert_eq!(systems, ["carrier", "erp", "wms"], "one connector per replayable system");
    let carrier = page(&sam, "q=SHP-4471").await;
    assert_eq!(carrier.items[0].refs.get(RefKind::Shipment), Some("SHP-4471"));
}

#[tokio::test]
async fn a_connector_answers_a_test_request_and_is_not_deleted_while_replays_use_it() {
    // No workers: the replay stays under way while the test deletes.
    let app = spawn_app_with(|c| c.replay_workers = 0, None).await;
    app.seed_demo().await;
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", target.local_addr().expect("address"));
    let router = axum::Router::new().fallback(|headers: axum::http::HeaderMap| async move {
        let test = headers.get("crossdock-test").and_then(|v| v.to_str().ok()).unwrap_or("no").to_owned();
        (axum::http::StatusCode::ACCEPTED, format!("{{\"test\":\"{test}\"}}"))
    });
    tokio::spawn(async move { axum::serve(target, router).await });
    let morgan = app.signed_in("morgan").await;
    let mut spec: Value = serde_json::to_value(
        morgan.server_fn("list_connectors", &[]).await.json::<Vec<ConnectorEntry>>().await.unwrap()[2].spec.clone(),
    )
    .unwrap();
    spec["url"] = json!(url);
    assert_eq!(morgan.server_fn_json("save_connector", &json!({"connector": spec})).await.status(), 200);
    let answer: ConnectorTestView =
        morgan.server_fn("test_connector", &[("name", "WMS (demo)")]).await.json().await.expect("an answer");
    assert_eq!(answer.http_status, Some(202));
    assert_eq!(answer.head.as_deref(), Some("{\"test\":\"true\"}"));

    // A replay under way keeps it.
    let pat = app.signed_in("pat").await;
    let wms = page(&pat, "q=SO-79012").await.items[0].id.get();
    assert_eq!(pat.server_fn_json("replay", &json!({"id": wms})).await.status(), 200);
    let refused = morgan.server_fn("delete_connector", &[("name", "WMS (demo)")]).await;
    assert_eq!(refused.status(), 409);
    assert!(refused.json::<AppError>().await.unwrap().to_string().contains("replay(s) waiting or under way"));
    // The ERP one has none: it goes, and its name is free again.
    assert_eq!(morgan.server_fn("delete_connector", &[("name", "ERP (demo)")]).await.status(), 200);
    let left: Vec<ConnectorEntry> = morgan.server_fn("list_connectors", &[]).await.json().await.unwrap();
    assert!(left.iter().all(|c| c.spec.name != "ERP (demo)"));
    let audited =
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('connector.tested', 'connector.deleted')").await;
    assert_eq!(audited, 2);
    assert_eq!(pat.server_fn("test_connector", &[("name", "WMS (demo)")]).await.status(), 403);
}
