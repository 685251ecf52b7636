//! Working the queues: views, details, actions, lost updates, bulk actions,
//! saved views.

use crossdock::audit::{Actor, AuditAction};
use crossdock::sla::SlaState;
use crossdock::triage::{BulkJob, BulkOutcome};
use crossdock::triage::{QueueCounts, QueuePage};
use crossdock_app::AppError;
use crossdock_app::dto::{ExceptionDetailView, SavedViewEntry};
use serde_json::{Value, json};

use crate::helpers::{Browser, spawn_app_with_demo};

async fn page(b: &Browser, query: &str) -> QueuePage {
    let r = b.server_fn("queue_page", &[("query", query)]).await;
    assert_eq!(r.status(), 200, "{query}: {:?}", r.text().await);
    r.json().await.unwrap()
}

async fn act(b: &Browser, id: i64, seen: Option<i64>, action: Value) -> reqwest::Response {
    b.server_fn_json("act", &json!({"id": id, "seen": seen, "action": action})).await
}

async fn detail(b: &Browser, id: i64) -> ExceptionDetailView {
    b.server_fn("exception_detail", &[("id", &id.to_string())]).await.json().await.unwrap()
}

#[tokio::test]
async fn the_view_is_sorted_by_what_breaches_first_and_filtered_in_the_url() {
    let app = spawn_app_with_demo().await;
    let sam = app.signed_in("sam").await;
    let all = page(&sam, "").await;
    assert_eq!(all.items.len(), 42);
    let due: Vec<_> = all.items.iter().map(|i| i.sla.due_at).collect();
    let mut sorted = due.clone();
    sorted.sort_by_key(|d| d.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC));
    assert_eq!(due, sorted, "earliest due first");

    let receiving = page(&sam, "queue=receiving&severity=high").await;
    assert!(!receiving.items.is_empty());
    assert!(receiving.items.iter().all(|i| i.queue == "receiving" && i.severity.as_str() == "high"));
    let by_site = page(&sam, "site=DC-RNO&type=exception.inventory_mismatch").await;
    assert!(by_site.items.iter().all(|i| i.site == "DC-RNO" && i.kind.as_str() == "exception.inventory_mismatch"));
    let supplier = page(&sam, "supplier=SUP-017").await;
    assert!(!supplier.items.is_empty());
    assert!(supplier.items.iter().all(|i| i.refs.get(crossdock::RefKind::Supplier) == Some("SUP-017")));
    let by_key = page(&sam, "q=SHP-4471").await;
    assert_eq!(by_key.items.len(), 1, "a business key finds its exception");
    let by_severity = page(&sam, "sort=severity").await;
    let orders: Vec<i64> = by_severity.items.iter().map(|i| crossdock::triage::severity_order(i.severity)).collect();
    assert!(orders.windows(2).all(|w| w[0] <= w[1]));
    let unassigned = page(&sam, "assignee=none").await;
    let open_unassigned = app
        .scalar("SELECT COUNT(*) FROM exceptions WHERE assignee IS NULL AND status NOT IN ('resolved', 'dismissed')")
        .await;
    assert_eq!(unassigned.items.len() as i64, open_unassigned.min(50));
    assert!(unassigned.items.iter().all(|i| i.assignee.is_none()));
    let bad = sam.server_fn("queue_page", &[("query", "severity=dire&sla=late")]).await;
    assert_eq!(bad.status(), 400);
    let error: AppError = bad.json().await.unwrap();
    assert!(error.for_field("severity").is_some() && error.for_field("sla").is_some());
}

#[tokio::test]
async fn pages_follow_each_other_by_keyset_without_gaps_or_repeats() {
    let app = spawn_app_with_demo().await;
    let key = app.source("bulkwms", "t-wms/", 100_000.0, 100_000).await;
    let events: Vec<Value> = (0..80)
        .map(|i| json!({"specversion": "1.0", "id": format!("k-{i}"), "source": "t-wms/x", "type": "exception.partial_receipt",
            "time": "2026-11-24T15:42:10Z", "data": {"site": "DC-ATL", "po": format!("PO-8{i:03}"), "line": 1, "item": "SKU-1",
            "expected_qty": 10, "received_qty": 5}}))
        .collect();
    app.post_events(Some(&key), "application/cloudevents-batch+json", Value::Array(events).to_string()).await;
    let sam = app.signed_in("sam").await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut args = vec![("query", "sort=age".to_owned())];
        if let Some(a) = &after {
            args.push(("after", a.clone()));
        }
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let p: QueuePage = sam.server_fn("queue_page", &args).await.json().await.unwrap();
        assert!(p.items.len() <= 50);
        seen.extend(p.items.iter().map(|i| i.id.get()));
        match p.next {
            Some(c) => after = Some(c.to_string()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(seen.len(), 122);
    assert_eq!(unique.len(), 122, "no repeats");
}

#[tokio::test]
async fn counts_per_queue_and_sla_state_stand_beside_the_list() {
    let app = spawn_app_with_demo().await;
    let counts: QueueCounts = app.signed_in("sam").await.server_fn("queue_counts", &[]).await.json().await.unwrap();
    assert_eq!(counts.by_queue.iter().map(|(_, n)| n).sum::<i64>(), 42);
    assert_eq!(counts.by_sla.iter().map(|(_, n)| n).sum::<i64>(), 42);
    let pat: QueueCounts = app.signed_in("pat").await.server_fn("queue_counts", &[]).await.json().await.unwrap();
    assert!(pat.by_queue.iter().all(|(q, _)| q == "receiving" || q == "inventory-control"));
}

#[tokio::test]
async fn a_person_works_an_exception_through_its_lifecycle_and_every_step_is_on_the_timeline() {
    let app = spawn_app_with_demo().await;
    let pat = app.signed_in("pat").await;
    // A fresh partial receipt, well within its SLA.
    let key = app.source("fresh", "t-wms/", 100.0, 100).await;
    let event = json!({"specversion": "1.0", "id": "fresh-1", "source": "t-wms/dc-dal", "type": "exception.partial_receipt",
        "time": "2026-11-24T15:42:10Z", "data": {"site": "DC-DAL", "po": "PO-55555", "line": 1, "item": "SKU-1",
        "expected_qty": 96, "received_qty": 48, "severity": "low"}});
    let filed: Value = app.post_event(&key, &event).await.json().await.unwrap();
    let id = filed["exception_id"].as_i64().unwrap();
    let item = detail(&pat, id).await.item;
    let mut version = item.version;
    let step = |action: Value| (action, ());
    let steps = [
        step(json!({"kind": "status", "action": "acknowledge"})),
        step(json!({"kind": "status", "action": "start"})),
        step(json!({"kind": "status", "action": "wait", "party": "supplier", "reason": "asked for the missing 48"})),
    ];
    for (action, ()) in steps {
        let r = act(&pat, id, Some(version), action.clone()).await;
        assert_eq!(r.status(), 200, "{action}: {:?}", r.text().await);
        version = r.json().await.unwrap();
    }
    let waiting = detail(&pat, id).await;
    assert_eq!(waiting.item.status.as_str(), "waiting");
    assert_eq!(waiting.item.assignee.as_deref(), Some("pat"), "acknowledging took it");
    assert_eq!(waiting.resolve.frozen, Some(SlaState::Paused), "waiting pauses the resolve clock");
    assert_eq!(waiting.acknowledge.frozen, Some(SlaState::Met));

    let comment =
        act(&pat, id, Some(version), json!({"kind": "comment", "text": "Supplier says\\ntruck 2 on Monday"})).await;
    assert_eq!(comment.status(), 200);
    let wrong = act(&pat, id, Some(version), json!({"kind": "status", "action": "acknowledge"})).await;
    assert_eq!(wrong.status(), 400);
    let error: AppError = wrong.json().await.unwrap();
    assert!(error.to_string().contains("cannot acknowledge an exception that is waiting"), "{error}");
    for action in [
        json!({"kind": "status", "action": "resume"}),
        json!({"kind": "status", "action": "resolve", "code": "corrected", "note": "received the rest"}),
    ] {
        let r = act(&pat, id, Some(version), action).await;
        assert_eq!(r.status(), 200);
        version = r.json().await.unwrap();
    }
    let done = detail(&pat, id).await;
    assert_eq!(done.item.status.as_str(), "resolved");
    let actions: Vec<&str> = done.timeline.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "exception.filed",
            "exception.acknowledged",
            "exception.started",
            "exception.waiting",
            "exception.commented",
            "exception.resumed",
            "exception.resolved"
        ]
    );
    assert!(
        done.timeline.iter().all(|e| e.actor == Actor::User("pat".into()) || e.action == AuditAction::ExceptionFiled)
    );
    assert!(matches!(done.event.as_ref().map(|e| &e.data.body), Some(crossdock::event::Body::PartialReceipt { .. })));
    assert!(done.payload.contains("expected_qty"));
    use crossdock::triage::ChangeKind;
    assert_eq!(done.offered, vec![ChangeKind::Assign, ChangeKind::Comment, ChangeKind::Reopen], "pat holds it already");
}

#[tokio::test]
async fn a_change_based_on_a_stale_view_is_refused_with_who_changed_what() {
    let app = spawn_app_with_demo().await;
    let (pat, sam) = (app.signed_in("pat").await, app.signed_in("sam").await);
    let item = page(&pat, "queue=receiving").await.items[0].clone();
    let id = item.id.get();
    let first = act(&sam, id, Some(item.version), json!({"kind": "status", "action": "acknowledge"})).await;
    assert_eq!(first.status(), 200);
    let stale = act(&pat, id, Some(item.version), json!({"kind": "status", "action": "start"})).await;
    assert_eq!(stale.status(), 409);
    let error: AppError = stale.json().await.unwrap();
    let message = error.to_string();
    assert!(message.contains("user:sam") && message.contains("acknowledged"), "{message}");
    assert_eq!(detail(&pat, id).await.item.status.as_str(), "acknowledged", "nothing was done");
}

#[tokio::test]
async fn roles_and_queues_limit_who_may_act() {
    let app = spawn_app_with_demo().await;
    let (pat, sam, alex) = (app.signed_in("pat").await, app.signed_in("sam").await, app.signed_in("alex").await);
    let transport = page(&sam, "queue=transportation").await.items[0].clone();
    let outside = act(&pat, transport.id.get(), Some(transport.version), json!({"kind": "claim"})).await;
    assert_eq!(outside.status(), 404, "staff work only their queues, and learn nothing of others'");
    let missing = act(&pat, 999_999, Some(transport.version), json!({"kind": "claim"})).await;
    assert_eq!(outside.text().await.unwrap(), missing.text().await.unwrap(), "out of reach reads exactly like missing");
    assert_eq!(
        pat.server_fn("exception_detail", &[("id", &transport.id.get().to_string())]).await.status(),
        404,
        "nor see others'"
    );
    let receiving = page(&sam, "queue=receiving").await.items[0].clone();
    let auditor = act(&alex, receiving.id.get(), Some(receiving.version), json!({"kind": "claim"})).await;
    assert_eq!(auditor.status(), 403, "auditors change nothing");
    assert_eq!(alex.server_fn("exception_detail", &[("id", &receiving.id.get().to_string())]).await.status(), 200);

    // Sam takes it; Pat may not take it from him, Sam may give it to Pat.
    let v = act(&sam, receiving.id.get(), Some(receiving.version), json!({"kind": "claim"}))
        .await
        .json::<i64>()
        .await
        .unwrap();
    let grab = act(&pat, receiving.id.get(), Some(v), json!({"kind": "claim"})).await;
    assert_eq!(grab.status(), 403);
    assert!(grab.json::<AppError>().await.unwrap().to_string().contains("only a supervisor"));
    let give = act(
        &sam,
        receiving.id.get(),
        Some(v),
        json!({"kind": "assign", "assignee": "pat", "queue": null, "reason": "your area"}),
    )
    .await;
    assert_eq!(give.status(), 200);
    let to_stranger = act(
        &sam,
        transport.id.get(),
        Some(transport.version),
        json!({"kind": "assign", "assignee": "pat", "queue": null, "reason": "x"}),
    )
    .await;
    assert_eq!(to_stranger.status(), 400);
    assert!(
        to_stranger.json::<AppError>().await.unwrap().for_field("assignee").unwrap().contains("does not work in queue")
    );
    let no_reason = act(
        &sam,
        transport.id.get(),
        Some(transport.version),
        json!({"kind": "assign", "assignee": "sam", "queue": null, "reason": " "}),
    )
    .await;
    let status = no_reason.status();
    assert_eq!(status, 400, "a reason is required: {:?}", no_reason.text().await);
}

#[tokio::test]
async fn a_bulk_action_runs_in_the_background_and_reports_each_item_honestly() {
    let app = spawn_app_with_demo().await;
    let (pat, sam) = (app.signed_in("pat").await, app.signed_in("sam").await);
    let receiving = page(&sam, "queue=receiving").await;
    let first = receiving.items[0].clone();
    act(&sam, first.id.get(), Some(first.version), json!({"kind": "status", "action": "acknowledge"})).await;
    let transport = page(&sam, "queue=transportation").await.items[0].id.get();
    let mut ids: Vec<i64> = receiving.items.iter().map(|i| i.id.get()).collect();
    ids.push(transport);

    let preview: i64 = pat
        .server_fn_json("bulk_preview", &json!({"target": {"target": "view", "query": "queue=receiving"}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview, receiving.items.len() as i64);
    let job: i64 = pat
        .server_fn_json(
            "start_bulk",
            &json!({"target": {"target": "selected", "ids": ids}, "action": {"kind": "status", "action": "acknowledge"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        let s: BulkJob = pat.server_fn("bulk_status", &[("job", &job.to_string())]).await.json().await.unwrap();
        if s.finished {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "the bulk action never finished: {s:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let outcome = |id: i64| status.items.iter().find(|i| i.exception.get() == id).and_then(|i| i.outcome);
    let others = receiving.items.len() - 1;
    // Those still new are acknowledged; the rest are skipped for their status.
    let fresh = receiving.items.iter().filter(|i| i.status == crossdock::Status::New && i.id != first.id).count();
    assert!(fresh > 0);
    assert_eq!(status.total as usize, others + 2);
    assert_eq!(outcome(first.id.get()), Some(BulkOutcome::Skipped), "already acknowledged");
    assert_eq!(outcome(transport), Some(BulkOutcome::Skipped), "not pat's queue");
    let said = |id: i64| status.items.iter().find(|i| i.exception.get() == id).and_then(|i| i.message.clone());
    assert_eq!(said(transport).as_deref(), Some("no such exception"), "the queue is not named");
    assert_eq!(status.items.iter().filter(|i| i.outcome == Some(BulkOutcome::Done)).count(), fresh);
    let done = status.items.iter().find(|i| i.outcome == Some(BulkOutcome::Done)).unwrap();
    assert_eq!(
        done.message.as_deref(),
        Some("status: New → Acknowledged; assignee: — → pat"),
        "every change the bulk made is reported"
    );
    let audited = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'exception.acknowledged' AND actor = 'user:pat'")
        .await;
    assert_eq!(audited as usize, fresh);
    // Somebody else's job is not visible.
    assert_eq!(sam.server_fn("bulk_status", &[("job", &job.to_string())]).await.status(), 404);
}

#[tokio::test]
async fn views_are_saved_for_oneself_or_by_a_supervisor_for_a_team_and_audited() {
    let app = spawn_app_with_demo().await;
    let (pat, sam) = (app.signed_in("pat").await, app.signed_in("sam").await);
    let mine = pat.server_fn("save_view", &[("name", "My breaches"), ("query", "assignee=me&sla=breached")]).await;
    assert_eq!(mine.status(), 200);
    let share = |who: &'static str, team: &'static str| {
        let browser = if who == "pat" { &pat } else { &sam };
        async move {
            browser
                .server_fn(
                    "save_view",
                    &[("name", "Receiving high"), ("query", "queue=receiving&severity=high"), ("team", team)],
                )
                .await
        }
    };
    assert_eq!(share("pat", "Warehouse operations").await.status(), 403, "staff keep views to themselves");
    assert_eq!(share("sam", "Warehouse operations").await.status(), 200);
    let again = pat.server_fn("save_view", &[("name", "My breaches"), ("query", "")]).await;
    assert_eq!(again.status(), 400, "names are unique");
    let pats: Vec<SavedViewEntry> = pat.server_fn("list_views", &[]).await.json().await.unwrap();
    let mut names: Vec<&str> = pats.iter().map(|v| v.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["My breaches", "Receiving high"], "the team's view reaches pat");
    let sams: Vec<SavedViewEntry> = sam.server_fn("list_views", &[]).await.json().await.unwrap();
    assert_eq!(
        sams.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        ["Receiving high"],
        "own views are not shared"
    );
    let own = pats.iter().find(|v| v.name == "My breaches").unwrap().id.to_string();
    assert_eq!(sam.server_fn("delete_view", &[("id", &own)]).await.status(), 403);
    assert_eq!(pat.server_fn("delete_view", &[("id", &own)]).await.status(), 200);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'view.saved'").await, 2);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'view.deleted' AND actor = 'user:pat'").await,
        1
    );
}
