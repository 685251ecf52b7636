//! Milestone-based detection, driven with the tests' own clock.

use chrono::{Duration, SecondsFormat, Utc};

use super::*;
use crate::helpers::spawn_app_with;

fn at(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn overdue_exceptions(app: &TestApp) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT id, status FROM exceptions WHERE kind = 'exception.milestone_overdue'")
        .fetch_all(app.services.pool())
        .await
        .expect("query")
}

#[tokio::test]
async fn an_overdue_milestone_opens_one_exception_and_its_late_arrival_resolves_it() {
    let app = spawn_app_with(|c| c.lineage_sweep_seconds = 0, None).await;
    let erp = app.source("erp", "erp portal", 1000.0, 1000).await;
    let sent = Utc::now() - Duration::days(3);
    send(
        &app,
        &erp,
        &event(
            "p-1",
            "erp/sap",
            "po.created",
            &at(sent),
            json!({"refs": {"po": "PO-7"}, "supplier": "SUP-1",
               "lines": [{"line": 1, "item": "SKU-1", "qty": 10, "uom": "EA", "requested_date": "2026-12-01"}]}),
        ),
    )
    .await;

    // Before its time nothing is filed; after, one exception.
    let report = app.services.sweep_lineage(sent + Duration::hours(1)).await.expect("sweep").expect("the lease");
    assert_eq!((report.milestones, report.overdue), (1, 0));
    assert!(overdue_exceptions(&app).await.is_empty());
    let now = Utc::now();
    let report = app.services.sweep_lineage(now).await.expect("sweep").expect("the lease");
    assert_eq!((report.overdue, report.filed), (1, 1));
    let filed = overdue_exceptions(&app).await;
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].1, "new");
    let on: Option<String> = sqlx::query_scalar(
        "SELECT t.name FROM exceptions x JOIN transactions t ON t.id = x.transaction_id WHERE x.id = $1",
    )
    .bind(filed[0].0)
    .fetch_one(app.services.pool())
    .await
    .expect("query");
    assert_eq!(on.as_deref(), Some("po:PO-7"), "the exception is on its transaction");

    // Sweeping again, or after a restart, files nothing more.
    app.services.sweep_lineage(now + Duration::hours(1)).await.expect("sweep");
    let restarted = app.restarted_services().await;
    restarted.sweep_lineage(now + Duration::hours(2)).await.expect("sweep");
    assert_eq!(overdue_exceptions(&app).await.len(), 1, "never two for one transaction and expectation");

    // The acknowledgement comes after all: the exception is resolved by the system.
    send(
        &app,
        &erp,
        &event(
            "k-1",
            "portal/hub",
            "po.acknowledged",
            &at(Utc::now()),
            json!({"refs": {"po": "PO-7"}, "supplier": "SUP-1",
               "lines": [{"line": 1, "status": "accepted", "qty": 10, "promised_date": "2026-12-01"}]}),
        ),
    )
    .await;
    let report = restarted.sweep_lineage(Utc::now()).await.expect("sweep").expect("the lease");
    assert_eq!(report.settled, 1);
    let resolved = overdue_exceptions(&app).await;
    assert_eq!(resolved[0].1, "resolved");
    let by_system: Vec<String> = sqlx::query_scalar(
        "SELECT COALESCE(after, '') || ' ' || COALESCE(reason, '') FROM audit_log \
         WHERE actor = 'system:lineage' AND action = 'exception.resolved'",
    )
    .fetch_all(app.services.pool())
    .await
    .expect("query");
    assert_eq!(by_system.len(), 1, "a system action on its timeline and in the audit trail");
    assert!(by_system[0].contains("po.acknowledged arrived"), "{}", by_system[0]);
}

#[tokio::test]
async fn an_overdue_milestone_of_a_transaction_a_sender_named_lands_on_that_transaction() {
    let app = spawn_app_with(|c| c.lineage_sweep_seconds = 0, None).await;
    let erp = app.source("erp", "erp", 1000.0, 1000).await;
    let mut created = event(
        "p-42",
        "erp/sap",
        "po.created",
        &at(Utc::now() - Duration::days(4)),
        json!({"refs": {"po": "PO-42"}, "supplier": "SUP-1",
           "lines": [{"line": 1, "item": "SKU-1", "qty": 10, "uom": "EA", "requested_date": "2026-12-01"}]}),
    );
    created["correlationid"] = json!("deal-42");
    send(&app, &erp, &created).await;
    let report = app.services.sweep_lineage(Utc::now()).await.expect("sweep").expect("the lease");
    assert_eq!(report.filed, 1, "{report:?}");
    let on: Vec<String> = sqlx::query_scalar(
        "SELECT t.name FROM exceptions x JOIN transactions t ON t.id = x.transaction_id \
         WHERE x.kind = 'exception.milestone_overdue'",
    )
    .fetch_all(app.services.pool())
    .await
    .expect("query");
    assert_eq!(on, vec!["deal-42".to_owned()]);
}

#[tokio::test]
async fn contradictions_open_exceptions_and_senders_cannot_raise_crossdocks_own() {
    let app = spawn_app_with(|c| c.lineage_sweep_seconds = 0, None).await;
    let key = app.source("hub", "tms portal wms", 1000.0, 1000).await;
    let dispatch = |id: &str, carrier: &str| {
        event(
            id,
            "tms/p44",
            "shipment.dispatched",
            "2026-11-26T10:00:00Z",
            json!({"refs": {"order": "SO-9", "shipment": "SHP-9"}, "shipment": "SHP-9", "carrier": carrier,
                   "tracking": "T-1", "orders": ["SO-9"]}),
        )
    };
    send(&app, &key, &dispatch("d-1", "ODFL")).await;
    send(&app, &key, &dispatch("d-2", "UPS")).await;
    send(
        &app,
        &key,
        &event(
            "a-9",
            "portal/hub",
            "asn.received",
            "2026-11-23T09:00:00Z",
            json!({"refs": {"po": "PO-9", "asn": "ASN-9"}, "asn": "ASN-9", "eta": "2026-11-24T10:00:00Z",
               "lines": [{"line": 1, "item": "SKU-1", "qty": 100}]}),
        ),
    )
    .await;
    send(
        &app,
        &key,
        &event(
            "r-9",
            "wms/dc",
            "receipt.posted",
            "2026-11-24T15:00:00Z",
            json!({"refs": {"po": "PO-9", "asn": "ASN-9"}, "receipt": "RCV-9",
               "lines": [{"line": 1, "item": "SKU-1", "qty_received": 120}]}),
        ),
    )
    .await;
    let report = app.services.sweep_lineage(Utc::now()).await.expect("sweep").expect("the lease");
    assert_eq!(report.contradictions, 2, "{report:?}");
    let kinds: Vec<(String, String)> = sqlx::query_as("SELECT kind, summary FROM exceptions ORDER BY id")
        .fetch_all(app.services.pool())
        .await
        .expect("query");
    assert!(
        kinds.iter().any(|(k, s)| k == "exception.duplicate_event" && s.contains("SHP-9 dispatched twice")),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|(k, s)| k == "exception.partial_receipt" && s.contains("120 of SKU-1 received, 100 shipped")),
        "{kinds:?}"
    );

    let forged = event(
        "x-1",
        "tms/p44",
        "exception.milestone_overdue",
        "2026-11-26T10:00:00Z",
        json!({"transaction": "po:PO-9", "after": "po.created", "expected": "po.acknowledged",
               "due_at": "2026-11-25T10:00:00Z"}),
    );
    let r = app.post_event(&key, &forged).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("raised by Crossdock itself"));
    // Nor can anyone be given Crossdock's own source.
    let operator = crossdock_server::auth::Operator::command_line();
    let taken = app.services.rotate_source_key(&operator, "crossdock", chrono::Duration::zero()).await;
    assert!(matches!(taken, Err(crossdock_server::services::ServiceError::NotFound(_))), "{taken:?}");
}
