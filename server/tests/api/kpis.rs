//! Business KPIs on hand-computed fixtures: each KPI from its milestones
//! (in or out of order, some missing), empty days, targets, the transactions
//! behind a point, and totals that match a recount from the event log.

use crossdock::kpi::Kpi;
use crossdock_app::dto::{KpiView, TransactionSummary};
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, spawn_quiet_demo};

const SITE: &str = "DC-KPI";

fn event(id: &str, event_type: &str, time: &str, data: Value) -> Value {
    let mut data = data;
    data["site"] = json!(SITE);
    json!({"specversion": "1.0", "id": id, "source": "kpi-src/test", "type": event_type, "time": time, "data": data})
}

/// The fixture, in the order it arrives (a release after its dispatch).
fn fixture() -> Vec<Value> {
    vec![
        // PO-K1: 100 + 50 ordered, promised the 10th, received the 12th:
        // 80 and 50 (line 1 short), both two days late.
        event(
            "k1",
            "po.created",
            "2025-03-01T09:00:00Z",
            json!({"refs": {"po": "PO-K1"}, "supplier": "SUP-K",
            "lines": [{"line": 1, "item": "A", "qty": 100, "uom": "EA", "requested_date": "2025-03-10"},
                      {"line": 2, "item": "B", "qty": 50, "uom": "EA", "requested_date": "2025-03-10"}]}),
        ),
        event(
            "k2",
            "po.acknowledged",
            "2025-03-01T12:00:00Z",
            json!({"refs": {"po": "PO-K1"}, "supplier": "SUP-K",
            "lines": [{"line": 1, "status": "accepted", "qty": 100, "promised_date": "2025-03-10"},
                      {"line": 2, "status": "accepted", "qty": 50, "promised_date": "2025-03-10"}]}),
        ),
        event(
            "k3",
            "receipt.posted",
            "2025-03-12T10:00:00Z",
            json!({"refs": {"po": "PO-K1", "receipt": "R-K1"},
            "receipt": "R-K1", "lines": [{"line": 1, "item": "A", "qty_received": 80}, {"line": 2, "item": "B", "qty_received": 50}]}),
        ),
        // PO-K2: 10 ordered, 10 received the 11th, never acknowledged.
        event(
            "k4",
            "po.created",
            "2025-03-02T09:00:00Z",
            json!({"refs": {"po": "PO-K2"}, "supplier": "SUP-L",
            "lines": [{"line": 1, "item": "C", "qty": 10, "uom": "EA", "requested_date": "2025-03-11"}]}),
        ),
        event(
            "k5",
            "receipt.posted",
            "2025-03-11T15:00:00Z",
            json!({"refs": {"po": "PO-K2", "receipt": "R-K2"},
            "receipt": "R-K2", "lines": [{"line": 1, "item": "C", "qty_received": 10}]}),
        ),
        // PO-K3: created only; nothing to count.
        event(
            "k6",
            "po.created",
            "2025-03-03T09:00:00Z",
            json!({"refs": {"po": "PO-K3"}, "supplier": "SUP-K",
            "lines": [{"line": 1, "item": "D", "qty": 5, "uom": "EA", "requested_date": "2025-03-20"}]}),
        ),
        // SO-K1 allocated, SO-K2 failed: half the allocations failed.
        event(
            "k7",
            "order.released",
            "2025-03-11T08:00:00Z",
            json!({"refs": {"order": "SO-K1"}, "order": "SO-K1",
            "customer": "C1", "channel": "edi", "lines": [{"line": 1, "item": "A", "qty": 1}]}),
        ),
        event(
            "k8",
            "order.allocated",
            "2025-03-11T09:00:00Z",
            json!({"refs": {"order": "SO-K1"}, "order": "SO-K1",
            "lines": [{"line": 1, "item": "A", "qty_allocated": 1}]}),
        ),
        event(
            "k9",
            "exception.allocation_failed",
            "2025-03-11T09:30:00Z",
            json!({"refs": {"order": "SO-K2"},
            "order": "SO-K2", "item": "A", "requested_qty": 5, "available_qty": 0}),
        ),
        // SHP-K1 carries SO-K1: dispatched 12 h after release, delivered
        // 32 h later, its proof of delivery 6 h after that.
        event(
            "k10",
            "shipment.dispatched",
            "2025-03-11T20:00:00Z",
            json!({"refs": {"order": "SO-K1", "shipment": "SHP-K1"},
            "shipment": "SHP-K1", "carrier": "X", "tracking": "T1", "orders": ["SO-K1"]}),
        ),
        event(
            "k11",
            "delivery.confirmed",
            "2025-03-13T10:00:00Z",
            json!({"refs": {"shipment": "SHP-K1"},
            "shipment": "SHP-K1", "delivered_at": "2025-03-13T04:00:00Z"}),
        ),
        // SO-K3 is dispatched before its release arrives: 6 h, counted on the 12th.
        event(
            "k12",
            "shipment.dispatched",
            "2025-03-12T12:00:00Z",
            json!({"refs": {"order": "SO-K3", "shipment": "SHP-K2"},
            "shipment": "SHP-K2", "carrier": "X", "tracking": "T2", "orders": ["SO-K3"]}),
        ),
        event(
            "k13",
            "order.released",
            "2025-03-12T06:00:00Z",
            json!({"refs": {"order": "SO-K3"}, "order": "SO-K3",
            "customer": "C1", "channel": "edi", "lines": [{"line": 1, "item": "A", "qty": 1}]}),
        ),
    ]
}

async fn app_with_fixture() -> TestApp {
    let app = spawn_quiet_demo(|_| {}).await;
    let key = app.source("kpi-src", "kpi-src", 1000.0, 1000).await;
    for e in fixture() {
        let r = app.post_event(&key, &e).await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
    }
    app
}

async fn kpis(b: &Browser, args: Value) -> KpiView {
    let r = b.server_fn_json("kpis", &args).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    r.json().await.unwrap()
}

fn point(view: &KpiView, kpi: Kpi, day: &str) -> (Option<f64>, i64, bool) {
    let k = view.report.kpis.iter().find(|k| k.kpi == kpi).expect("the KPI");
    let s = k.series.iter().find(|s| s.site == SITE).expect("the fixture's site");
    let p = s.points.iter().find(|p| p.period.to_string() == day).expect("the day");
    (p.value.map(|v| (v * 100.0).round() / 100.0), p.n, p.missed)
}

#[tokio::test]
async fn each_kpi_matches_its_hand_computed_value_day_by_day() {
    let app = app_with_fixture().await;
    let pat = app.signed_in("pat").await;
    let v = kpis(&pat, json!({"from": "2025-03-10", "to": "2025-03-13"})).await;
    assert_eq!(v.report.periods.len(), 4);
    // Fill rate: 130 of 150 on the 12th, 10 of 10 on the 11th; PO-K3 not received.
    assert_eq!(point(&v, Kpi::FillRate, "2025-03-12"), (Some(86.67), 2, true));
    assert_eq!(point(&v, Kpi::FillRate, "2025-03-11"), (Some(100.0), 1, false));
    assert_eq!(point(&v, Kpi::FillRate, "2025-03-10"), (None, 0, false), "an empty day");
    // Late receipts: both lines of PO-K1 late; PO-K2 promised nothing.
    assert_eq!(point(&v, Kpi::LateReceipts, "2025-03-12"), (Some(100.0), 2, true));
    assert_eq!(point(&v, Kpi::LateReceipts, "2025-03-11"), (None, 0, false));
    let late = v.report.kpis.iter().find(|k| k.kpi == Kpi::LateReceipts).unwrap();
    assert_eq!(late.distribution[4], 2, "1 to 3 days late");
    assert_eq!(point(&v, Kpi::AllocationFailures, "2025-03-11"), (Some(50.0), 2, true));
    assert_eq!(point(&v, Kpi::ShipmentLatency, "2025-03-11"), (Some(12.0), 1, false));
    assert_eq!(point(&v, Kpi::ShipmentLatency, "2025-03-12"), (Some(6.0), 1, false), "a release after its dispatch");
    assert_eq!(point(&v, Kpi::DeliveryLag, "2025-03-13"), (Some(38.0), 1, false));
    assert_eq!(point(&v, Kpi::PodLag, "2025-03-13"), (Some(6.0), 1, false));

    // Per week: one point (the week of Monday the 10th) holding everything.
    let weekly = kpis(&pat, json!({"from": "2025-03-10", "to": "2025-03-13", "period": "week"})).await;
    assert_eq!(point(&weekly, Kpi::FillRate, "2025-03-10"), (Some(87.5), 3, true), "140 of 160");
    // One supplier: SUP-K's lines only.
    let sup = kpis(&pat, json!({"from": "2025-03-10", "to": "2025-03-13", "supplier": "SUP-K"})).await;
    assert_eq!(sup.report.kpis.len(), 2);
    assert_eq!(point(&sup, Kpi::FillRate, "2025-03-11"), (None, 0, false), "PO-K2 is SUP-L's");
    assert!(sup.suppliers.contains(&"SUP-L".to_owned()));

    // The transactions behind a point.
    let r = pat
        .server_fn_json(
            "transactions",
            &json!({"query": {"kpi": "fill_rate", "site": SITE, "from": "2025-03-12", "to": "2025-03-12"}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let behind: Vec<TransactionSummary> = r.json().await.unwrap();
    assert_eq!(behind.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["po:PO-K1"]);
    let r = pat
        .server_fn_json(
            "transactions",
            &json!({"query": {"kpi": "shipment_latency", "site": SITE, "from": "2025-03-11", "to": "2025-03-12"}}),
        )
        .await;
    let behind: Vec<TransactionSummary> = r.json().await.unwrap();
    let mut names: Vec<&str> = behind.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["order:SO-K1", "order:SO-K3"]);
}

#[tokio::test]
async fn targets_mark_points_and_a_recount_from_the_log_gives_the_same_totals() {
    let app = app_with_fixture().await;
    let admin = app.signed_in("morgan").await;
    let r = admin.server_fn_json("save_kpi_targets", &json!({"targets": {"targets": {"fill_rate": 140}}})).await;
    assert_eq!(r.status(), 400, "a fill rate target above 100 % is refused");
    let r = admin
        .server_fn_json("save_kpi_targets", &json!({"targets": {"targets": {"fill_rate": 80, "shipment_latency": 10}}}))
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let v = kpis(&admin, json!({"from": "2025-03-10", "to": "2025-03-13"})).await;
    assert!(v.may_set_targets);
    assert!(!point(&v, Kpi::FillRate, "2025-03-12").2, "86.67 % meets 80 %");
    assert!(point(&v, Kpi::ShipmentLatency, "2025-03-11").2, "12 h is past 10 h");
    assert!(!point(&v, Kpi::PodLag, "2025-03-13").2, "no target: nothing marked");
    let staff = kpis(&app.signed_in("pat").await, json!({})).await;
    assert!(!staff.may_set_targets);
    assert_eq!(staff.report.periods.len(), 14, "the last fourteen days by default");
    assert!(staff.report.kpis.iter().all(|k| k.n > 0), "the demo's history gives every KPI shape");
    // The history keeps within the expectations: it files no overdue work.
    app.services.sweep_lineage(app.services.now()).await.unwrap();
    let overdue = app
        .scalar(
            "SELECT COUNT(*) FROM exceptions e JOIN transactions t ON t.id = e.transaction_id \
             WHERE e.kind = 'exception.milestone_overdue' AND (t.name LIKE 'po:PO-2%' OR t.name LIKE 'order:SO-6%')",
        )
        .await;
    assert_eq!(overdue, 0);
    // Nor does it leave transactions quiet for longer than the demo's own
    // stuck PO (a week): what is not at its flow's end moved since.
    let week_ago = (app.services.now() - chrono::Duration::days(7)).timestamp_millis();
    let joined = if app.on_postgres() { "string_agg" } else { "group_concat" };
    let stuck: Option<String> = sqlx::query_scalar(&format!(
        "SELECT {joined}(name || ' at ' || stage, ', ') FROM transactions WHERE (name LIKE 'po:PO-2%' AND stage < 5 \
         OR name LIKE 'order:SO-6%' AND stage < 7) AND last_milestone_at < {week_ago}"
    ))
    .fetch_one(app.services.pool())
    .await
    .unwrap();
    assert_eq!(stuck, None);
    let r = app.signed_in("pat").await.server_fn_json("save_kpi_targets", &json!({"targets": {"targets": {}}})).await;
    assert_eq!(r.status(), 403);
    let r = admin.server_fn_json("kpis", &json!({"from": "2025-03-13", "to": "2025-03-10"})).await;
    assert_eq!(r.status(), 400, "a range that ends before it starts");

    // Recount everything from the event log, as an upgrade does.
    let totals = "SELECT COUNT(*) || ':' || SUM(n) || ':' || ROUND(CAST(SUM(num) AS NUMERIC), 3) || ':' || \
                  ROUND(CAST(SUM(den) AS NUMERIC), 3) || ':' || \
                  SUM(hits) || ':' || SUM(b0 + 2*b1 + 3*b2 + 4*b3 + 5*b4 + 6*b5 + 7*b6) FROM kpi_daily WHERE n <> 0";
    let pool = app.services.pool().clone();
    let before: String = sqlx::query_scalar(totals).fetch_one(&pool).await.unwrap();
    for table in ["kpi_daily", "kpi_po_lines", "kpi_orders", "kpi_shipments", "kpi_suppliers"] {
        sqlx::query(&format!("DELETE FROM {table}")).execute(&pool).await.unwrap();
    }
    sqlx::query("UPDATE kpi_backfill SET up_to_event = (SELECT MAX(id) FROM events)").execute(&pool).await.unwrap();
    let _restarted = app.restarted_services().await;
    let after: String = sqlx::query_scalar(totals).fetch_one(&pool).await.unwrap();
    assert_eq!(before, after);
}
