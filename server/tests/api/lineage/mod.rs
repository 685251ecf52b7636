//! Lineage: events placed in their business transactions whatever order they
//! arrive in and whoever sends them, the key index, and links.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

fn event(id: &str, source: &str, kind: &str, time: &str, data: Value) -> Value {
    json!({"specversion": "1.0", "id": id, "source": source, "type": kind, "time": time, "data": data})
}

async fn send(app: &TestApp, key: &str, event: &Value) {
    let r = app.post_event(key, event).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

/// The transaction an event was placed in, by its id.
async fn transaction_of(app: &TestApp, event: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT t.name FROM events e JOIN transactions t ON t.id = e.transaction_id WHERE e.event_id = $1",
    )
    .bind(event)
    .fetch_optional(app.services.pool())
    .await
    .expect("query")
}

async fn stage_of(app: &TestApp, name: &str) -> (Option<String>, i64) {
    sqlx::query_as("SELECT flow, stage FROM transactions WHERE name = $1")
        .bind(name)
        .fetch_one(app.services.pool())
        .await
        .expect("a transaction")
}

async fn linked(app: &TestApp, name: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT o.name FROM transactions t JOIN transaction_links l ON t.id IN (l.a, l.b) \
         JOIN transactions o ON o.id = CASE WHEN l.a = t.id THEN l.b ELSE l.a END WHERE t.name = $1 ORDER BY o.name",
    )
    .bind(name)
    .fetch_all(app.services.pool())
    .await
    .expect("query")
}

#[tokio::test]
async fn a_purchase_order_is_one_transaction_whatever_order_its_events_arrive_in_and_whoever_sends_them() {
    let app = spawn_app().await;
    let (erp, wms, portal) = (
        app.source("erp", "erp", 1000.0, 1000).await,
        app.source("wms", "wms", 1000.0, 1000).await,
        app.source("portal", "portal", 1000.0, 1000).await,
    );
    // The receipt comes first, naming only its ASN; then the ASN, naming the
    // PO; then the PO itself, and the supplier's acknowledgement.
    send(
        &app,
        &wms,
        &event(
            "r-1",
            "wms/dc-atl",
            "receipt.posted",
            "2026-11-24T15:00:00Z",
            json!({"site": "DC-ATL", "refs": {"asn": "ASN-1"}, "receipt": "RCV-1",
               "lines": [{"line": 1, "item": "SKU-1", "qty_received": 192}]}),
        ),
    )
    .await;
    send(
        &app,
        &portal,
        &event(
            "a-1",
            "portal/hub",
            "asn.received",
            "2026-11-23T09:00:00Z",
            json!({"refs": {"po": "PO-1", "asn": "ASN-1"}, "asn": "ASN-1", "eta": "2026-11-24T10:00:00Z",
               "lines": [{"line": 1, "item": "SKU-1", "qty": 200}]}),
        ),
    )
    .await;
    send(
        &app,
        &erp,
        &event(
            "p-1",
            "erp/sap",
            "po.created",
            "2026-11-20T08:00:00Z",
            json!({"refs": {"po": "PO-1"}, "supplier": "SUP-017",
               "lines": [{"line": 1, "item": "SKU-1", "qty": 240, "uom": "EA", "requested_date": "2026-12-01"}]}),
        ),
    )
    .await;
    send(
        &app,
        &portal,
        &event(
            "k-1",
            "portal/hub",
            "po.acknowledged",
            "2026-11-21T08:00:00Z",
            json!({"refs": {"po": "PO-1"}, "supplier": "SUP-017",
               "lines": [{"line": 1, "status": "accepted", "qty": 240, "promised_date": "2026-12-01"}]}),
        ),
    )
    .await;

    // The receipt made its own transaction first (its ASN was all it knew).
    assert_eq!(transaction_of(&app, "r-1").await.as_deref(), Some("asn:ASN-1"));
    // The ASN then carried the PO and the ASN key, already indexed: linked.
    assert_eq!(transaction_of(&app, "a-1").await.as_deref(), Some("asn:ASN-1"), "the ASN key was known first");
    for id in ["p-1", "k-1"] {
        assert_eq!(transaction_of(&app, id).await.as_deref(), Some("asn:ASN-1"), "{id}: found through its PO key");
    }
    assert_eq!(stage_of(&app, "asn:ASN-1").await, (Some("procure_to_receive".into()), 4), "the receipt is stage 4");
    let supplier: Option<String> = sqlx::query_scalar("SELECT supplier FROM transactions WHERE name = 'asn:ASN-1'")
        .fetch_one(app.services.pool())
        .await
        .expect("query");
    assert_eq!(supplier.as_deref(), Some("SUP-017"));
    let keys = app.scalar("SELECT COUNT(*) FROM transaction_keys").await;
    assert_eq!(keys, 3, "po, asn and receipt keys, each indexed once");
}

#[tokio::test]
async fn orders_link_to_the_receipt_they_were_fed_from_and_shipments_to_their_invoice() {
    let app = spawn_app().await;
    let (erp, wms, tms) = (
        app.source("erp", "erp", 1000.0, 1000).await,
        app.source("wms", "wms", 1000.0, 1000).await,
        app.source("tms", "tms", 1000.0, 1000).await,
    );
    send(&app, &wms, &event("r-2", "wms/dc-atl", "receipt.posted", "2026-11-24T15:00:00Z",
        json!({"refs": {"po": "PO-2"}, "receipt": "RCV-2", "lines": [{"line": 1, "item": "SKU-1", "qty_received": 50}]}))).await;
    send(
        &app,
        &erp,
        &event(
            "o-1",
            "erp/sap",
            "order.released",
            "2026-11-25T09:00:00Z",
            json!({"refs": {"order": "SO-1"}, "order": "SO-1", "customer": "CUST-9", "channel": "edi",
               "lines": [{"line": 1, "item": "SKU-1", "qty": 10}]}),
        ),
    )
    .await;
    send(
        &app,
        &wms,
        &event(
            "al-1",
            "wms/dc-atl",
            "order.allocated",
            "2026-11-25T10:00:00Z",
            json!({"refs": {"order": "SO-1", "receipt": "RCV-2"}, "order": "SO-1",
               "lines": [{"line": 1, "item": "SKU-1", "qty_allocated": 10}]}),
        ),
    )
    .await;
    // The proof of delivery arrives before the dispatch it confirms.
    send(
        &app,
        &tms,
        &event(
            "d-1",
            "tms/p44",
            "delivery.confirmed",
            "2026-11-27T10:00:00Z",
            json!({"refs": {"shipment": "SHP-1"}, "shipment": "SHP-1", "delivered_at": "2026-11-27T10:00:00Z"}),
        ),
    )
    .await;
    send(
        &app,
        &tms,
        &event(
            "s-1",
            "tms/p44",
            "shipment.dispatched",
            "2026-11-26T10:00:00Z",
            json!({"refs": {"order": "SO-1", "shipment": "SHP-1"}, "shipment": "SHP-1", "carrier": "ODFL",
               "tracking": "TRK-1", "orders": ["SO-1"]}),
        ),
    )
    .await;
    send(&app, &erp, &event("i-1", "erp/sap", "invoice.posted", "2026-11-28T10:00:00Z",
        json!({"refs": {"invoice": "INV-1", "shipment": "SHP-1"}, "invoice": "INV-1", "amount": 125.5, "currency": "USD"}))).await;

    assert_eq!(transaction_of(&app, "al-1").await.as_deref(), Some("order:SO-1"));
    assert_eq!(linked(&app, "order:SO-1").await, ["po:PO-2", "shipment:SHP-1"], "fed from the PO's receipt; shipped");
    assert_eq!(transaction_of(&app, "i-1").await.as_deref(), Some("shipment:SHP-1"), "the invoice of the shipment");
    assert_eq!(stage_of(&app, "shipment:SHP-1").await.1, 7, "delivered and invoiced");
    assert_eq!(stage_of(&app, "order:SO-1").await, (Some("order_to_cash".into()), 4), "dispatched");
    // Items, customers and sites never link: another order of the same item
    // and customer is a transaction of its own.
    send(
        &app,
        &erp,
        &event(
            "o-2",
            "erp/sap",
            "order.released",
            "2026-11-25T11:00:00Z",
            json!({"refs": {"order": "SO-2", "item": "SKU-1"}, "order": "SO-2", "customer": "CUST-9", "channel": "edi",
               "lines": [{"line": 1, "item": "SKU-1", "qty": 5}]}),
        ),
    )
    .await;
    assert!(linked(&app, "order:SO-2").await.is_empty());
}

#[tokio::test]
async fn a_correlation_id_given_by_the_sender_names_the_transaction() {
    let app = spawn_app().await;
    let mw = app.source("mw", "mw", 1000.0, 1000).await;
    let mut failure = event(
        "f-1",
        "mw/hub",
        "exception.integration",
        "2026-11-24T16:05:00Z",
        json!({"refs": {"order": "SO-77812", "shipment": "SHP-4471"}, "system": "carrier",
               "operation": "tms.create_shipment", "error_code": "timeout", "message": "no answer",
               "retryable": true, "payload": {}}),
    );
    failure["correlationid"] = json!("order:SO-77812");
    send(&app, &mw, &failure).await;
    assert_eq!(transaction_of(&app, "f-1").await.as_deref(), Some("order:SO-77812"));
    let on_exception: Option<String> =
        sqlx::query_scalar("SELECT t.name FROM exceptions x JOIN transactions t ON t.id = x.transaction_id")
            .fetch_optional(app.services.pool())
            .await
            .expect("query");
    assert_eq!(on_exception.as_deref(), Some("order:SO-77812"), "the exception knows its transaction");
}

#[tokio::test]
async fn events_logged_before_lineage_are_placed_at_the_next_start() {
    let app = spawn_app().await;
    let erp = app.source("erp", "erp", 1000.0, 1000).await;
    send(
        &app,
        &erp,
        &event(
            "p-9",
            "erp/sap",
            "po.created",
            "2026-11-20T08:00:00Z",
            json!({"refs": {"po": "PO-9"}, "supplier": "SUP-1",
               "lines": [{"line": 1, "item": "SKU-1", "qty": 1, "uom": "EA", "requested_date": "2026-12-01"}]}),
        ),
    )
    .await;
    // As a database from before lineage: nothing placed, everything to catch
    // up. In one write transaction, so the running sweep waits for it.
    let mut tx = crossdock_server::store::begin(app.services.pool()).await.expect("begin");
    for sql in [
        "UPDATE events SET transaction_id = NULL",
        "UPDATE exceptions SET transaction_id = NULL",
        "DELETE FROM lineage_findings",
        "DELETE FROM expectations",
        "DELETE FROM transaction_links",
        "DELETE FROM transaction_keys",
        "DELETE FROM transactions",
        "UPDATE lineage_backfill SET up_to_event = (SELECT MAX(id) FROM events)",
    ] {
        sqlx::query(sql).execute(&mut *tx).await.expect("reset");
    }
    tx.commit().await.expect("reset committed");
    app.restarted_services().await;
    assert_eq!(transaction_of(&app, "p-9").await.as_deref(), Some("po:PO-9"));
    assert_eq!(app.scalar("SELECT up_to_event FROM lineage_backfill").await, 0, "done once");
}

#[tokio::test]
async fn the_lineage_shows_milestones_to_everyone_and_exceptions_only_to_those_who_may_see_them() {
    let app = crate::helpers::spawn_app_with_demo().await;
    let key = app.source("t-hub", "t-erp t-wms t-portal", 1000.0, 1000).await;
    send(
        &app,
        &key,
        &event(
            "lp-1",
            "t-erp/sap",
            "po.created",
            "2026-11-20T08:00:00Z",
            json!({"site": "DC-ATL", "refs": {"po": "PO-L1"}, "supplier": "SUP-017",
               "lines": [{"line": 1, "item": "SKU-1", "qty": 240, "uom": "EA", "requested_date": "2026-12-01"}]}),
        ),
    )
    .await;
    send(
        &app,
        &key,
        &event(
            "la-1",
            "t-portal/hub",
            "asn.received",
            "2026-11-22T09:00:00Z",
            json!({"site": "DC-ATL", "refs": {"po": "PO-L1", "asn": "ASN-L1"}, "asn": "ASN-L1",
               "eta": "2026-11-24T10:00:00Z", "lines": [{"line": 1, "item": "SKU-1", "qty": 200}]}),
        ),
    )
    .await;
    send(
        &app,
        &key,
        &event(
            "lr-1",
            "t-wms/dc-atl",
            "receipt.posted",
            "2026-11-24T15:00:00Z",
            json!({"site": "DC-ATL", "refs": {"po": "PO-L1", "asn": "ASN-L1"}, "receipt": "RCV-L1",
               "lines": [{"line": 1, "item": "SKU-1", "qty_received": 192}]}),
        ),
    )
    .await;
    // A short receipt (receiving, pat's queue) and a supplier's new date (purchasing, not pat's).
    send(&app, &key, &event("lx-1", "t-wms/dc-atl", "exception.partial_receipt", "2026-11-24T15:01:00Z",
        json!({"site": "DC-ATL", "refs": {"po": "PO-L1", "asn": "ASN-L1"}, "po": "PO-L1", "line": 1, "item": "SKU-1",
               "expected_qty": 200, "received_qty": 192}))).await;
    send(
        &app,
        &key,
        &event(
            "lx-2",
            "t-portal/hub",
            "exception.supplier_date_change",
            "2026-11-21T10:00:00Z",
            json!({"site": "DC-ATL", "refs": {"po": "PO-L1"}, "po": "PO-L1", "supplier": "SUP-017",
               "previous_date": "2026-12-01", "promised_date": "2026-12-09"}),
        ),
    )
    .await;

    let pat = app.signed_in("pat").await;
    let found: Option<i64> =
        pat.server_fn("find_transaction", &[("typed", "ASN-L1")]).await.json().await.expect("json");
    let id = found.expect("the ASN number finds its transaction");
    let view: crossdock_app::dto::LineageView =
        pat.server_fn("transaction", &[("id", &id.to_string())]).await.json().await.expect("a lineage");
    assert_eq!(view.transaction.name, "po:PO-L1");
    let kinds: Vec<&str> = view.milestones.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["po.created", "asn.received", "receipt.posted"]);
    let progress = view.progress.expect("a flow");
    assert_eq!(progress.gaps, [crossdock::event::MilestoneKind::PoAcknowledged], "the acknowledgement never came");
    assert_eq!(view.milestones[2].lane, "t-hub");
    assert!(view.milestones[2].facts.iter().any(|(k, v)| k == "received" && v == "192 in 1 line(s)"));
    let receipt_stage = crossdock::event::MilestoneKind::ReceiptPosted;
    let short = view.exceptions.iter().find(|e| e.stage == Some(receipt_stage)).expect("at the receipt");
    assert_eq!(short.item.as_ref().map(|i| i.kind.as_str()), Some("exception.partial_receipt"));
    let other = view
        .exceptions
        .iter()
        .find(|e| e.stage == Some(crossdock::event::MilestoneKind::PoAcknowledged))
        .expect("the date change sits at the acknowledgement");
    assert!(other.item.is_none(), "pat sees only that there is an exception in another queue");
    let hidden: i64 = app
        .scalar("SELECT id FROM exceptions WHERE kind = 'exception.supplier_date_change' AND refs LIKE '%PO-L1%'")
        .await;
    assert_eq!(pat.server_fn("exception_detail", &[("id", &hidden.to_string())]).await.status(), 404);
    // Sam, a supervisor, sees both in full; the raw milestone opens for anyone.
    let sam = app.signed_in("sam").await;
    let full: crossdock_app::dto::LineageView =
        sam.server_fn("transaction", &[("id", &id.to_string())]).await.json().await.expect("a lineage");
    assert!(full.exceptions.iter().all(|e| e.item.is_some()));
    let raw: crossdock_app::dto::RawEventView = pat
        .server_fn(
            "milestone_event",
            &[("transaction", &id.to_string()), ("event", &view.milestones[0].event.to_string())],
        )
        .await
        .json()
        .await
        .expect("the event");
    assert!(raw.body.contains("PO-L1") && raw.event_id == "lp-1");
    // The exception page shows the transaction's stages.
    let detail: crossdock_app::dto::ExceptionDetailView = pat
        .server_fn("exception_detail", &[("id", &short.item.as_ref().unwrap().id.get().to_string())])
        .await
        .json()
        .await
        .expect("detail");
    assert_eq!(detail.transaction.map(|t| t.id), Some(id));
    // The list finds it by supplier, and as stuck since its receipt.
    let listed: Vec<crossdock_app::dto::TransactionSummary> = pat
        .server_fn_json("transactions", &json!({"query": {"supplier": "SUP-017", "stuck_hours": 1}}))
        .await
        .json()
        .await
        .expect("list");
    assert!(listed.iter().any(|t| t.id == id && t.quiet_hours.is_some_and(|h| h >= 1)), "{listed:?}");
    let unknown = pat.server_fn("transaction", &[("id", "999999")]).await;
    assert_eq!(unknown.status(), 404);
    let signed_out = app.browser().server_fn("transaction", &[("id", &id.to_string())]).await;
    assert_eq!(signed_out.status(), 401);
}

#[tokio::test]
async fn the_transactions_list_pages_through_everything_once_in_order() {
    let app = crate::helpers::spawn_app_with_demo().await;
    let pool = app.services.pool();
    // 130 more transactions: 100 with a last milestone (some at the same
    // instant), 30 without any.
    for n in 0..130_i64 {
        let last = (n < 100).then_some(1_700_000_000_000 + (n / 3) * 60_000);
        sqlx::query(
            "INSERT INTO transactions (name, flow, stage, first_at, last_milestone_at, updated_at) \
             VALUES ($1, 'order_to_cash', 1, 0, $2, 0)",
        )
        .bind(format!("order:SO-P{n}"))
        .bind(last)
        .execute(pool)
        .await
        .expect("insert");
    }
    let total = app.scalar("SELECT COUNT(*) FROM transactions").await;
    let sam = app.signed_in("sam").await;
    let mut seen: Vec<crossdock_app::dto::TransactionSummary> = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..20 {
        let page: Vec<crossdock_app::dto::TransactionSummary> =
            sam.server_fn_json("transactions", &json!({"query": {"after": after}})).await.json().await.expect("a page");
        assert!(page.len() <= 50);
        let Some(last) = page.last() else { break };
        after = Some(
            crossdock::lineage::TransactionCursor {
                at: last.last_milestone_at.map(|a| a.timestamp_millis()),
                id: last.id,
            }
            .to_string(),
        );
        let full = page.len() == 50;
        seen.extend(page);
        if !full {
            break;
        }
    }
    let ids: std::collections::BTreeSet<i64> = seen.iter().map(|t| t.id).collect();
    assert_eq!(ids.len(), seen.len(), "no transaction twice");
    assert_eq!(seen.len() as i64, total, "every transaction once");
    let order: Vec<(bool, Option<i64>, i64)> = seen
        .iter()
        .map(|t| (t.last_milestone_at.is_none(), t.last_milestone_at.map(|a| a.timestamp()), t.id))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "the longest quiet first, those without milestones last");

    let bad = sam.server_fn_json("transactions", &json!({"query": {"after": "yesterday"}})).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("not a page of this list"));
}

mod detection;
