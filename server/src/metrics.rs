//! Metrics for operations, in the Prometheus text format: counters and
//! histograms recorded where things happen (ingest, HTTP, replays,
//! notifications), and gauges read from the database when scraped (open
//! exceptions, circuit breakers, the ingest writer's queue).
//!
//! One recorder serves the whole process; every server in it (tests start
//! several) records into it.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const INGEST_EVENTS: &str = "crossdock_ingest_events_total";
pub const INGEST_SECONDS: &str = "crossdock_ingest_request_duration_seconds";
pub const WRITER_QUEUE: &str = "crossdock_ingest_writer_queue_depth";
pub const OPEN_EXCEPTIONS: &str = "crossdock_open_exceptions";
pub const REPLAY_ATTEMPTS: &str = "crossdock_replay_attempts_total";
pub const BREAKER_OPEN: &str = "crossdock_connector_breaker_open";
pub const NOTIFICATIONS: &str = "crossdock_notification_deliveries_total";
pub const HTTP_REQUESTS: &str = "crossdock_http_requests_total";
pub const HTTP_SECONDS: &str = "crossdock_http_request_duration_seconds";

/// Latency buckets, in seconds: 1 ms to 10 s.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use; `None` when another
/// recorder was installed first (metrics are then not ours to render).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(error = %err, "metrics are off: another recorder is installed");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(INGEST_EVENTS, "Events received, by source, type and outcome (accepted, duplicate, rejected)");
    describe_histogram!(INGEST_SECONDS, Unit::Seconds, "Time to answer an ingest request");
    describe_gauge!(WRITER_QUEUE, "Ingest requests waiting for the database writer");
    describe_gauge!(OPEN_EXCEPTIONS, "Open exceptions, by queue and SLA state");
    describe_counter!(REPLAY_ATTEMPTS, "Replay delivery attempts, by connector and outcome");
    describe_gauge!(BREAKER_OPEN, "1 when a connector's circuit breaker is open or half open, else 0");
    describe_counter!(NOTIFICATIONS, "Notifications delivered, by channel and outcome");
    describe_counter!(HTTP_REQUESTS, "HTTP requests, by route, method and status");
    describe_histogram!(HTTP_SECONDS, Unit::Seconds, "Time to answer an HTTP request, by route");
}
