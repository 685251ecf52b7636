//! `/metrics`: off unless a token is set, then Prometheus text that a
//! Prometheus parser reads, with what operations watch.

use prometheus_parse::{Scrape, Value};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

fn sample<'a>(scrape: &'a Scrape, name: &str, labels: &[(&str, &str)]) -> Option<&'a prometheus_parse::Sample> {
    scrape.samples.iter().find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
}

fn number(value: &Value) -> f64 {
    match value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
        Value::Summary(_) => 0.0,
    }
}

#[tokio::test]
async fn metrics_are_off_unless_a_token_is_set() {
    let app = spawn_app().await;
    assert_eq!(app.get("/metrics").await.status(), 404);
}

#[tokio::test]
async fn metrics_read_as_prometheus_text_with_ingest_http_and_open_exceptions() {
    let app = spawn_app_with(|c| c.metrics_token = Some("scrape-me-please".to_owned().into()), None).await;
    app.seed_demo().await;
    let key = app.source("metricswms", "metrics-wms/", 1000.0, 100).await;
    let good = json!({"specversion": "1.0", "id": "m-1", "source": "metrics-wms/a", "type": "exception.partial_receipt",
        "time": "2026-12-01T15:42:10Z", "data": {"site": "DC-ATL", "po": "PO-77001", "line": 1, "item": "SKU-1",
        "expected_qty": 10, "received_qty": 5}});
    assert_eq!(app.post_event(&key, &good).await.status(), 200);
    assert_eq!(app.post_event(&key, &good).await.status(), 200, "a duplicate");
    let bad = json!({"specversion": "1.0", "id": "m-2", "source": "metrics-wms/a", "type": "exception.nonsense"});
    app.post_event(&key, &bad).await;

    let unauthorized = app.client.get(format!("{}/metrics", app.address)).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    let response =
        app.client.get(format!("{}/metrics", app.address)).bearer_auth("scrape-me-please").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text");

    let events = |outcome: &str| {
        sample(&scrape, "crossdock_ingest_events_total", &[("source", "metricswms"), ("outcome", outcome)])
            .map(|s| number(&s.value))
    };
    assert_eq!(events("accepted"), Some(1.0));
    assert_eq!(events("duplicate"), Some(1.0));
    assert_eq!(events("rejected"), Some(1.0));
    let accepted =
        sample(&scrape, "crossdock_ingest_events_total", &[("source", "metricswms"), ("outcome", "accepted")]);
    assert_eq!(accepted.unwrap().labels.get("type"), Some("exception.partial_receipt"));
    assert!(scrape.samples.iter().any(|s| s.metric.starts_with("crossdock_ingest_request_duration_seconds")));
    let posts = sample(&scrape, "crossdock_http_requests_total", &[("route", "/api/v1/events"), ("status", "200")]);
    assert!(posts.is_some_and(|s| number(&s.value) >= 2.0));

    let open_in_db = app
        .scalar("SELECT COUNT(*) FROM exceptions WHERE queue = 'receiving' AND status IN ('new', 'acknowledged', 'in_progress', 'waiting')")
        .await;
    let open_gauge: f64 = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "crossdock_open_exceptions" && s.labels.get("queue") == Some("receiving"))
        .map(|s| number(&s.value))
        .sum();
    assert_eq!(open_gauge as i64, open_in_db, "every open exception of the queue, across SLA states");
    assert!(sample(&scrape, "crossdock_connector_breaker_open", &[]).is_some(), "the demo's connectors");
    assert!(sample(&scrape, "crossdock_ingest_writer_queue_depth", &[]).is_some());
}
