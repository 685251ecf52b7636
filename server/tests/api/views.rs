//! Views read through structures kept for speed (each exception's supplier
//! beside it, the indexes of each order a view is walked through) answer
//! exactly as the plain reading: the same exceptions in the same order, page
//! after page.

use crossdock::sla::{SlaSnapshot, SlaState};
use crossdock::triage::QueuePage;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, spawn_app_with_demo};

/// An exception's id and stored clock: frozen state, due and at-risk
/// instants (milliseconds).
type ClockRow = (i64, Option<String>, Option<i64>, Option<i64>);

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

/// Runs a bulk action to its end.
async fn bulk(app: &TestApp, who: &Browser, body: Value) {
    let started = who.server_fn_json("start_bulk", &body).await;
    assert_eq!(started.status(), 200, "{:?}", started.text().await);
    let job: i64 = started.json().await.expect("a job");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while app.scalar(&format!("SELECT COUNT(*) FROM bulk_jobs WHERE id = {job} AND finished_at IS NOT NULL")).await == 0
    {
        assert!(std::time::Instant::now() < deadline, "the bulk action never finished");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// One action on the exceptions `ids`.
fn on(ids: &[i64], action: Value) -> Value {
    json!({"target": {"target": "selected", "ids": ids}, "action": action})
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
    bulk(&app, &sam, body).await;

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

#[tokio::test]
async fn every_status_sort_and_filter_answers_as_the_plain_reading() {
    const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];
    let app = spawn_app_with_demo().await;
    let key = app.source("orders-wms", "t-wms/", 100_000.0, 100_000).await;
    // 1,600 exceptions: short receipts (the receiving queue) and integration
    // failures, at every severity, on two sites, opened over two weeks.
    for batch in 0..8 {
        let events: Vec<Value> = (0..200)
            .map(|j| {
                let i = batch * 200 + j;
                let site = ["DC-ATL", "DC-DAL"][(i / 7) % 2];
                let severity = SEVERITIES[(i / 3) % 4];
                let time = format!("2026-11-{:02}T{:02}:{:02}:10Z", 10 + i % 14, i % 24, i % 60);
                let data = if i % 3 == 0 {
                    json!({"site": site, "system": "wms", "operation": "allocate", "error_code": "E42",
                        "message": format!("allocation {i} refused"), "retryable": true, "attempts": 1,
                        "payload": {"order": format!("SO-S{i:05}")},
                        "severity": severity, "refs": {"order": format!("SO-S{i:05}")}})
                } else {
                    json!({"site": site, "po": format!("PO-S{i:05}"), "line": 1 + i % 5, "item": "SKU-1",
                        "expected_qty": 10, "received_qty": i % 10, "severity": severity})
                };
                let kind = if i % 3 == 0 { "exception.integration" } else { "exception.partial_receipt" };
                json!({"specversion": "1.0", "id": format!("s-{i}"), "source": "t-wms/x",
                    "type": kind, "time": time, "data": data})
            })
            .collect();
        let r =
            app.post_events(Some(&key), "application/cloudevents-batch+json", Value::Array(events).to_string()).await;
        assert_eq!(r.status(), 200);
        let answer: Value = r.json().await.expect("an answer");
        assert_eq!(answer["accepted"], 200, "{answer}");
    }
    // Every status: claimed by a clerk (some of those started, some waiting,
    // some resolved or dismissed), resolved and dismissed by a supervisor,
    // the rest new.
    let sam = app.signed_in("sam").await;
    let pat = app.signed_in("pat").await;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM exceptions WHERE source = 't-wms/x' ORDER BY id")
        .fetch_all(app.services.pool())
        .await
        .expect("ids");
    assert_eq!(ids.len(), 1_600);
    // Statuses spread over the exceptions apart from their sites and
    // severities: eight buckets, two of them left new.
    let bucket = |k: usize| (k * 5 + k / 11) % 8;
    let those = |pick: &dyn Fn(usize) -> bool| -> Vec<i64> {
        ids.iter().copied().enumerate().filter(|(k, _)| pick(*k)).map(|(_, id)| id).collect()
    };
    let claimed = those(&|k| (2..=5).contains(&bucket(k)) || (bucket(k) == 7 && k % 2 == 0));
    bulk(&app, &pat, on(&claimed, json!({"kind": "claim"}))).await;
    bulk(&app, &pat, on(&those(&|k| bucket(k) == 3), json!({"kind": "status", "action": "start"}))).await;
    let wait = json!({"kind": "status", "action": "wait", "party": "supplier", "reason": "asked for the rest"});
    bulk(&app, &pat, on(&those(&|k| bucket(k) == 4), wait)).await;
    let resolve = json!({"kind": "status", "action": "resolve", "code": "fixed_externally"});
    bulk(&app, &sam, on(&those(&|k| (5..=6).contains(&bucket(k))), resolve)).await;
    let dismiss = json!({"kind": "status", "action": "dismiss", "reason": "seen twice"});
    bulk(&app, &sam, on(&those(&|k| bucket(k) == 7), dismiss)).await;
    for status in ["new", "acknowledged", "in_progress", "waiting", "resolved", "dismissed"] {
        let n = app
            .scalar(&format!("SELECT COUNT(*) FROM exceptions WHERE source = 't-wms/x' AND status = '{status}'"))
            .await;
        assert!(n >= 50, "{n} {status}: every status is worth a view");
    }

    const OPEN: &str = "('new', 'acknowledged', 'in_progress', 'waiting')";
    let statuses = [
        ("", format!("e.status IN {OPEN}")),
        ("status=new", "e.status = 'new'".to_owned()),
        ("status=waiting&status=in_progress", "e.status IN ('waiting', 'in_progress')".to_owned()),
        ("status=resolved", "e.status = 'resolved'".to_owned()),
        ("status=resolved&status=dismissed", "e.status IN ('resolved', 'dismissed')".to_owned()),
        ("status=new&status=resolved", "e.status IN ('new', 'resolved')".to_owned()),
        ("status=any", "1 = 1".to_owned()),
    ];
    let sorts = [
        ("", "e.sla_sort, e.id"),
        ("sort=severity", "e.severity_order, e.sla_sort, e.id"),
        ("sort=age", "e.created_at, e.id"),
    ];
    let pats_queues = "e.queue IN ('receiving', 'inventory-control')";
    use SlaState::{AtRisk, Breached, Met, Missed, OnTrack, Paused};
    // Who looks, the filter, what it means of the row's columns, and the
    // SLA states it keeps (read from each row's stored clock by the core's
    // own rule, not by the store's conditions).
    let filters: [(&Browser, &str, String, &[SlaState]); 13] = [
        (&sam, "", "1 = 1".to_owned(), &[]),
        (&sam, "site=DC-DAL", "e.site = 'DC-DAL'".to_owned(), &[]),
        (&sam, "queue=receiving", "e.queue = 'receiving'".to_owned(), &[]),
        (&sam, "severity=high", "e.severity = 'high'".to_owned(), &[]),
        (
            &sam,
            "queue=receiving&severity=high&site=DC-ATL",
            "e.queue = 'receiving' AND e.severity = 'high' AND e.site = 'DC-ATL'".to_owned(),
            &[],
        ),
        (&sam, "assignee=pat", "e.assignee = 'pat'".to_owned(), &[]),
        (&sam, "assignee=none", "e.assignee IS NULL".to_owned(), &[]),
        (&sam, "sla=breached", "1 = 1".to_owned(), &[Breached]),
        (&sam, "sla=on_track&sla=at_risk", "1 = 1".to_owned(), &[OnTrack, AtRisk]),
        (&sam, "sla=met&sla=missed", "1 = 1".to_owned(), &[Met, Missed]),
        (&sam, "queue=receiving&sla=paused", "e.queue = 'receiving'".to_owned(), &[Paused]),
        (&pat, "", pats_queues.to_owned(), &[]),
        (&pat, "assignee=me", format!("{pats_queues} AND e.assignee = 'pat'"), &[]),
    ];
    let mine: std::collections::HashSet<i64> = ids.iter().copied().collect();
    let mut held = std::collections::BTreeSet::new();
    for (status, status_sql) in &statuses {
        for (sort, order) in sorts {
            for (who, filter, filter_sql, states) in &filters {
                let query =
                    [*status, sort, filter].iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join("&");
                // The test's own exceptions: the demo's background work
                // (overdue milestones) may file more meanwhile.
                let shown: Vec<i64> = all_pages(who, &query).await.into_iter().filter(|id| mine.contains(id)).collect();
                // Each clock turns at risk ten minutes or more
                // after the exceptions were filed: not between the pages
                // and this reading.
                let now = chrono::Utc::now();
                let plain = format!(
                    "SELECT e.id, e.sla_frozen, e.sla_due_at, e.sla_risk_at FROM exceptions e \
                     WHERE e.source = 't-wms/x' AND {status_sql} AND {filter_sql} ORDER BY {order}"
                );
                let rows: Vec<ClockRow> =
                    sqlx::query_as(&plain).fetch_all(app.services.pool()).await.expect("the plain reading");
                let expected: Vec<i64> = rows
                    .into_iter()
                    .filter(|(_, frozen, due, risk)| {
                        let at = |ms: &Option<i64>| ms.and_then(chrono::DateTime::from_timestamp_millis);
                        let frozen = frozen.as_deref().map(|f| f.parse::<SlaState>().expect("a stored state"));
                        let state = SlaSnapshot { frozen, due_at: at(due), at_risk_at: at(risk) }.state_at(now);
                        states.is_empty() || states.contains(&state)
                    })
                    .map(|(id, ..)| id)
                    .collect();
                assert_eq!(shown, expected, "{query}");
                if !expected.is_empty() {
                    held.insert(query);
                }
            }
        }
    }
    // The views that can hold exceptions do: each filter, and each SLA
    // state these exceptions are in, among some statuses.
    for filter in ["site=DC-DAL", "assignee=pat", "assignee=none", "sla=met&sla=missed"] {
        assert!(held.contains(&format!("status=any&{filter}")), "{filter}: {held:?}");
    }
    let running = ["status=any&sla=breached", "status=any&sla=on_track&sla=at_risk"];
    assert!(running.iter().any(|q| held.contains(*q)), "{held:?}");
    assert!(held.contains("status=waiting&status=in_progress&queue=receiving&sla=paused"), "{held:?}");
    assert!(held.len() > 150, "{} of the views hold exceptions", held.len());
}
