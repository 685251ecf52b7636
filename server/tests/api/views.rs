//! Views read through a structure kept for speed (each exception's supplier
//! beside it) answer exactly as the plain reading through the business keys:
//! the same exceptions in the same order, page after page.

use crossdock::triage::QueuePage;
use serde_json::{Value, json};

use crate::helpers::{Browser, spawn_app_with_demo};

/// Every id a view shows, following its pages to the end.
pub(crate) async fn all_pages(b: &Browser, query: &str) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut args = vec![("query", query.to_owned())];
        args.extend(after.take().map(|a| ("after", a)));
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = b.server_fn("queue_page", &args).await;
        assert_eq!(r.status(), 200, "{query}");
        let page: QueuePage = r.json().await.expect("a page");
        seen.extend(page.items.iter().map(|i| i.id.get()));
        match page.next {
            Some(c) => after = Some(c.to_string()),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn a_suppliers_view_shows_what_its_business_keys_hold_in_the_same_order() {
    const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];
    let app = spawn_app_with_demo().await;
    let key = app.source("views-wms", "t-wms/", 100_000.0, 100_000).await;
    // 2,000 exceptions over seven suppliers (one in ten names none), at
    // every severity, on two sites.
    for batch in 0..10 {
        let events: Vec<Value> = (0..200)
            .map(|j| {
                let i = batch * 200 + j;
                let refs = if i % 10 == 0 { json!({}) } else { json!({"supplier": format!("SUP-V{}", i % 7)}) };
                let site = ["DC-ATL", "DC-DAL"][i % 2];
                json!({"specversion": "1.0", "id": format!("v-{i}"), "source": "t-wms/x",
                    "type": "exception.partial_receipt", "time": "2026-11-24T15:42:10Z",
                    "data": {"site": site, "po": format!("PO-V{i:05}"), "line": 1 + i % 5,
                        "item": "SKU-1", "expected_qty": 10, "received_qty": i % 10,
                        "severity": SEVERITIES[i % 4], "refs": refs}})
            })
            .collect();
        let r =
            app.post_events(Some(&key), "application/cloudevents-batch+json", Value::Array(events).to_string()).await;
        assert_eq!(r.status(), 200);
    }
    // Some no longer open: a bulk resolve over one supplier's first hundred.
    let sam = app.signed_in("sam").await;
    let some = all_pages(&sam, "supplier=SUP-V3").await;
    let body = json!({"target": {"target": "selected", "ids": &some[..100]},
        "action": {"kind": "status", "action": "resolve", "code": "fixed_externally"}});
    let started = sam.server_fn_json("start_bulk", &body).await;
    assert_eq!(started.status(), 200, "{:?}", started.text().await);
    let job: i64 = started.json().await.expect("a job");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while app.scalar(&format!("SELECT COUNT(*) FROM bulk_jobs WHERE id = {job} AND finished_at IS NOT NULL")).await == 0
    {
        assert!(std::time::Instant::now() < deadline, "the bulk resolve never finished");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let sorts = [
        ("", "e.sla_sort, e.id"),
        ("&sort=severity", "e.severity_order, e.sla_sort, e.id"),
        ("&sort=age", "e.created_at, e.id"),
    ];
    for supplier in (0..7).map(|s| format!("SUP-V{s}")) {
        for (sort, order) in sorts {
            for (status, open) in
                [("", " AND e.status IN ('new', 'acknowledged', 'in_progress', 'waiting')"), ("&status=any", "")]
            {
                let query = format!("supplier={supplier}{sort}{status}");
                let shown = all_pages(&sam, &query).await;
                let plain = format!(
                    "SELECT e.id FROM exceptions e WHERE e.id IN \
                     (SELECT r.exception_id FROM exception_refs r WHERE r.kind = 'supplier' AND r.value = $1){open} \
                     ORDER BY {order}"
                );
                let expected: Vec<i64> = sqlx::query_scalar(&plain)
                    .bind(&supplier)
                    .fetch_all(app.services.pool())
                    .await
                    .expect("the plain reading");
                assert!(expected.len() > 100, "{query}: a view worth comparing");
                assert_eq!(shown, expected, "{query}");
            }
        }
    }
}
