//! Replays: where a failed message is sent again (connectors), how patiently
//! (retry policies), and when a target is given a rest (circuit breakers).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::FieldProblem;
use crate::event::System;
use crate::named_enum;
use crate::retry::{DeliveryOutcome, RetrySchedule, Verdict};
use crate::source::SourceName;

/// A named retry policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicySpec {
    pub name: String,
    #[serde(flatten)]
    pub schedule: RetrySchedule,
    #[serde(default)]
    pub retry_on: RetryOn,
    /// New integration failures under this policy are replayed at once,
    /// before a person has to look at them.
    #[serde(default)]
    pub automatic: bool,
}

/// Which outcomes are worth another attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryOn {
    pub timeout: bool,
    pub connection_error: bool,
    /// 408 and 429.
    pub throttled: bool,
    /// 5xx.
    pub server_error: bool,
}

impl Default for RetryOn {
    fn default() -> Self {
        Self { timeout: true, connection_error: true, throttled: true, server_error: true }
    }
}

impl RetryOn {
    /// The verdict on an outcome under this policy: what the classification
    /// calls retryable is retried only if the policy says so.
    pub fn verdict(&self, outcome: DeliveryOutcome) -> Verdict {
        let allowed = match outcome {
            DeliveryOutcome::Timeout => self.timeout,
            DeliveryOutcome::ConnectionError => self.connection_error,
            DeliveryOutcome::Http { status: 408 | 429, .. } => self.throttled,
            DeliveryOutcome::Http { status: 500..=599, .. } => self.server_error,
            DeliveryOutcome::Http { .. } => true,
        };
        match outcome.verdict() {
            Verdict::Retry { .. } if !allowed => Verdict::Final,
            v => v,
        }
    }
}

impl RetryPolicySpec {
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = self.schedule.validate().err().unwrap_or_default();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 || !crate::text::is_one_line(name) {
            problems.push(FieldProblem {
                pointer: "/name".into(),
                message: "a name of 1 to 80 characters, without control characters, is required".into(),
            });
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }

    /// The policy used when neither the connector nor the queue names one.
    pub fn standard() -> Self {
        Self {
            name: "Standard".into(),
            schedule: RetrySchedule {
                max_attempts: 5,
                initial_delay_ms: 30_000,
                multiplier: 2.0,
                max_delay_ms: 600_000,
                jitter: crate::retry::Jitter::Full,
            },
            retry_on: RetryOn::default(),
            automatic: false,
        }
    }
}

/// How a connector sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Post,
    Put,
    Patch,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
        }
    }
}

/// Where the messages of one system and operation are replayed to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorSpec {
    pub name: String,
    pub system: System,
    /// The operation, e.g. `tms.create_shipment`; `*` for every operation of the system.
    pub operation: String,
    pub method: HttpMethod,
    pub url: String,
    /// Headers sent with every replay (not secret).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The header the secret is sent in, e.g. `Authorization`.
    #[serde(default)]
    pub auth_header: Option<String>,
    pub timeout_ms: u32,
    /// Name of the retry policy; none to use the queue's or the standard one.
    #[serde(default)]
    pub retry_policy: Option<String>,
    /// Consecutive failures that open the circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit rests before one probe is tried.
    pub breaker_cooldown_seconds: u32,
    /// The sources whose failures this connector replays on their word. A
    /// failure filed by any other source names a system and a message that
    /// nobody vouched for: it is replayed only once a supervisor confirms.
    #[serde(default)]
    pub allowed_sources: Vec<SourceName>,
}

/// Whether `url` is an absolute http:// or https:// URL of at most 2048
/// characters with a host and no white space.
pub fn is_http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && !url.contains(char::is_whitespace)
        && url.len() <= 2048
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl ConnectorSpec {
    pub const MIN_TIMEOUT_MS: u32 = 100;
    pub const MAX_TIMEOUT_MS: u32 = 120_000;
    pub const MAX_ALLOWED_SOURCES: usize = 50;

    /// Checks a connector as an admin entered it; every problem is reported.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut push =
            |pointer: &str, message: String| problems.push(FieldProblem { pointer: pointer.into(), message });
        if self.name.trim().is_empty() || self.name.chars().count() > 80 || !crate::text::is_one_line(&self.name) {
            push("/name", "a name of 1 to 80 characters, without control characters, is required".into());
        }
        let op = self.operation.trim();
        if op.is_empty() || op.len() > 128 || op.contains(|c: char| c.is_whitespace() || c.is_control()) {
            push("/operation", "an operation such as tms.create_shipment, or * for all".into());
        }
        if !is_http_url(&self.url) {
            push("/url", "must be an http:// or https:// URL".into());
        }
        if !(Self::MIN_TIMEOUT_MS..=Self::MAX_TIMEOUT_MS).contains(&self.timeout_ms) {
            push("/timeout_ms", format!("must be between {} and {} ms", Self::MIN_TIMEOUT_MS, Self::MAX_TIMEOUT_MS));
        }
        for (name, value) in &self.headers {
            if !is_token(name) {
                push(&format!("/headers/{name}"), "is not a valid header name".into());
            } else if value.contains(['\r', '\n']) || value.len() > 4096 {
                push(&format!("/headers/{name}"), "a header value is one line of at most 4096 characters".into());
            }
        }
        if let Some(h) = &self.auth_header
            && !is_token(h)
        {
            push("/auth_header", "is not a valid header name".into());
        }
        if !(1..=100).contains(&self.breaker_threshold) {
            push("/breaker_threshold", "must be between 1 and 100 failures".into());
        }
        if !(1..=86_400).contains(&self.breaker_cooldown_seconds) {
            push("/breaker_cooldown_seconds", "must be between 1 second and a day".into());
        }
        if self.allowed_sources.len() > Self::MAX_ALLOWED_SOURCES {
            push("/allowed_sources", format!("at most {} sources", Self::MAX_ALLOWED_SOURCES));
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }

    /// Whether this connector replays, without a supervisor's confirmation,
    /// a failure filed by `source` (unknown for events older than sources).
    pub fn trusts(&self, source: Option<&SourceName>) -> bool {
        source.is_some_and(|s| self.allowed_sources.contains(s))
    }

    /// Whether this connector replays a message of `system` and `operation`.
    pub fn serves(&self, system: System, operation: &str) -> bool {
        self.system == system && (self.operation == "*" || self.operation == operation)
    }
}

/// The state of a connector's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Breaker {
    /// Deliveries go through; `failures` in a row so far.
    Closed { failures: u32 },
    /// Deliveries rest since `since`.
    Open { since: DateTime<Utc> },
    /// One probe is on its way; if it has not come back by `until` (its
    /// worker died or lost its lease), another may be sent.
    HalfOpen {
        #[serde(default = "long_ago")]
        until: DateTime<Utc>,
    },
}

/// A half-open state stored before probes expired: expired at once.
fn long_ago() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// What a breaker lets a delivery do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Go,
    /// Go, as the one probe of a half-open breaker.
    Probe,
    /// Wait until then.
    WaitUntil(DateTime<Utc>),
}

impl Breaker {
    pub fn admit(self, now: DateTime<Utc>, cooldown: Duration) -> Admission {
        match self {
            Breaker::Closed { .. } => Admission::Go,
            Breaker::Open { since } if now >= since + cooldown => Admission::Probe,
            Breaker::Open { since } => Admission::WaitUntil(since + cooldown),
            // The probe came to nothing: send another.
            Breaker::HalfOpen { until } if now >= until => Admission::Probe,
            // The probe is out; others wait a little and ask again.
            Breaker::HalfOpen { until } => Admission::WaitUntil((now + Duration::seconds(1)).min(until)),
        }
    }

    /// After a delivery that went through.
    pub fn succeeded(self) -> Breaker {
        Breaker::Closed { failures: 0 }
    }

    /// After a delivery that failed.
    pub fn failed(self, now: DateTime<Utc>, threshold: u32) -> Breaker {
        match self {
            Breaker::Closed { failures } if failures + 1 >= threshold => Breaker::Open { since: now },
            Breaker::Closed { failures } => Breaker::Closed { failures: failures + 1 },
            Breaker::Open { .. } | Breaker::HalfOpen { .. } => Breaker::Open { since: now },
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Breaker::Closed { .. } => "closed",
            Breaker::Open { .. } => "open",
            Breaker::HalfOpen { .. } => "half-open",
        }
    }
}

/// The `Idempotency-Key` of a replay: the same for the same exception and
/// version of its message, so the target can drop repeats.
pub fn idempotency_key(exception: i64, payload_version: i64) -> String {
    format!("crossdock-ex{exception}-v{payload_version}")
}

named_enum! {
    /// Where an exception's replay stands.
    pub enum ReplayState ("replay state") {
        /// A replay is queued or waiting for its next attempt.
        Scheduled => "scheduled",
        /// The message went through; the exception is resolved.
        Replayed => "replayed",
        /// The attempts ran out or the target refused; back with its owner.
        Failed => "failed",
    }
}

impl ReplayState {
    pub const fn label(self) -> &'static str {
        match self {
            ReplayState::Scheduled => "Replay scheduled",
            ReplayState::Replayed => "Replayed",
            ReplayState::Failed => "Replay failed",
        }
    }
}

named_enum! {
    /// Where a replay job stands.
    pub enum JobState ("replay job state") {
        Pending => "pending",
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
    }
}

named_enum! {
    /// What one delivery attempt came to.
    pub enum AttemptOutcome ("attempt outcome") {
        /// The target accepted it (2xx).
        Delivered => "delivered",
        /// The target answered with an error status.
        HttpError => "http_error",
        /// No answer within the connector's timeout.
        Timeout => "timeout",
        /// The target could not be reached.
        ConnectionError => "connection_error",
        /// Crossdock failed while delivering (the attempt still counts).
        InternalError => "internal_error",
    }
}

impl AttemptOutcome {
    pub fn of(outcome: DeliveryOutcome) -> Self {
        match outcome {
            DeliveryOutcome::Timeout => AttemptOutcome::Timeout,
            DeliveryOutcome::ConnectionError => AttemptOutcome::ConnectionError,
            DeliveryOutcome::Http { status: 200..=299, .. } => AttemptOutcome::Delivered,
            DeliveryOutcome::Http { .. } => AttemptOutcome::HttpError,
        }
    }
}

/// One replay of an exception's message, as people follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayJob {
    pub id: i64,
    pub exception: crate::ExceptionId,
    pub state: JobState,
    pub attempts: i64,
    /// When the next attempt is due, while one is.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Who asked, as the audit trail names them.
    pub requested_by: String,
    pub automatic: bool,
    /// The version of the message it sends.
    pub message_version: i64,
    pub idempotency_key: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// One delivery attempt of a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayAttempt {
    pub job: i64,
    pub attempt: i64,
    pub started_at: DateTime<Utc>,
    pub latency_ms: Option<i64>,
    pub outcome: AttemptOutcome,
    pub http_status: Option<i64>,
    /// Whether the target answered with a body; its first KiB is read on
    /// demand, and each reading is recorded in the audit trail.
    pub answered: bool,
}

/// One difference between two versions of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonChange {
    /// Where, as a JSON pointer (`""` for the whole message).
    pub pointer: String,
    /// The value before; `None` when it was added.
    pub before: Option<serde_json::Value>,
    /// The value after; `None` when it was removed.
    pub after: Option<serde_json::Value>,
}

/// The most differences [`json_diff`] lists.
pub const MAX_CHANGES: usize = 200;

/// What changed from `before` to `after`, leaf by leaf: object members by
/// name, array elements by position; at most [`MAX_CHANGES`].
pub fn json_diff(before: &serde_json::Value, after: &serde_json::Value) -> Vec<JsonChange> {
    let mut changes = Vec::new();
    diff_into(&mut changes, String::new(), Some(before), Some(after));
    changes
}

fn diff_into(
    out: &mut Vec<JsonChange>,
    pointer: String,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) {
    use serde_json::Value;
    if out.len() >= MAX_CHANGES || before == after {
        return;
    }
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let escaped = k.replace('~', "~0").replace('/', "~1");
                diff_into(out, format!("{pointer}/{escaped}"), a.get(k), b.get(k));
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                diff_into(out, format!("{pointer}/{i}"), a.get(i), b.get(i));
            }
        }
        _ => out.push(JsonChange { pointer, before: before.cloned(), after: after.cloned() }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_diff_names_each_changed_leaf_by_pointer() {
        use serde_json::json;
        let before = json!({"shipment": "SHP-1", "weight_kg": 12, "lines": [{"sku": "A"}, {"sku": "B"}], "a/b": 1});
        let after =
            json!({"shipment": "SHP-1", "weight_kg": 12.5, "lines": [{"sku": "A"}], "carrier": "UPS", "a/b": 1});
        let changes = json_diff(&before, &after);
        let pointers: Vec<&str> = changes.iter().map(|c| c.pointer.as_str()).collect();
        assert_eq!(pointers, ["/carrier", "/lines/1", "/weight_kg"]);
        assert_eq!(changes[0].before, None);
        assert_eq!(changes[1].after, None);
        assert_eq!(changes[2].after, Some(json!(12.5)));
        assert!(json_diff(&before, &before).is_empty());
        assert_eq!(json_diff(&json!("x"), &json!({"x": 1}))[0].pointer, "");
        let wide = json!((0..500).collect::<Vec<_>>());
        assert_eq!(json_diff(&json!([]), &wide).len(), MAX_CHANGES);
    }

    fn connector() -> ConnectorSpec {
        ConnectorSpec {
            name: "TMS shipments".into(),
            system: System::Carrier,
            operation: "tms.create_shipment".into(),
            method: HttpMethod::Post,
            url: "https://tms.example.com/shipments".into(),
            headers: [("X-Tenant".to_owned(), "acme".to_owned())].into_iter().collect(),
            auth_header: Some("Authorization".into()),
            timeout_ms: 10_000,
            retry_policy: None,
            breaker_threshold: 5,
            breaker_cooldown_seconds: 60,
            allowed_sources: vec![SourceName::parse("middleware").unwrap()],
        }
    }

    #[test]
    fn a_connector_replays_on_their_word_only_the_sources_it_lists() {
        let c = connector();
        assert!(c.trusts(Some(&SourceName::parse("middleware").unwrap())));
        assert!(!c.trusts(Some(&SourceName::parse("portal").unwrap())));
        assert!(!c.trusts(None), "a failure of unknown origin is not trusted");
        let too_many = ConnectorSpec {
            allowed_sources: (0..51).map(|i| SourceName::parse(&format!("s{i}")).unwrap()).collect(),
            ..connector()
        };
        assert!(too_many.validate().unwrap_err().iter().any(|p| p.pointer == "/allowed_sources"));
    }

    #[test]
    fn a_connector_is_checked_on_save() {
        assert!(connector().validate().is_ok());
        let bad = ConnectorSpec {
            url: "ftp://tms".into(),
            timeout_ms: 5,
            headers: [("Bad Header".to_owned(), "x".to_owned()), ("X-Ok".to_owned(), "a\r\nb".to_owned())]
                .into_iter()
                .collect(),
            breaker_threshold: 0,
            ..connector()
        };
        let pointers: Vec<String> = bad.validate().unwrap_err().into_iter().map(|p| p.pointer).collect();
        for expected in ["/url", "/timeout_ms", "/headers/Bad Header", "/headers/X-Ok", "/breaker_threshold"] {
            assert!(pointers.iter().any(|p| p == expected), "{expected} in {pointers:?}");
        }
    }

    #[test]
    fn a_connector_serves_its_system_and_operation() {
        let c = connector();
        assert!(c.serves(System::Carrier, "tms.create_shipment"));
        assert!(!c.serves(System::Carrier, "tms.cancel_shipment"));
        assert!(ConnectorSpec { operation: "*".into(), ..c }.serves(System::Carrier, "anything"));
    }

    #[test]
    fn the_breaker_opens_rests_probes_and_closes() {
        let t = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let cooldown = Duration::seconds(60);
        let mut b = Breaker::Closed { failures: 0 };
        for _ in 0..2 {
            b = b.failed(t, 3);
            assert_eq!(b.admit(t, cooldown), Admission::Go);
        }
        b = b.failed(t, 3);
        assert_eq!(b, Breaker::Open { since: t });
        assert_eq!(b.admit(t + Duration::seconds(10), cooldown), Admission::WaitUntil(t + cooldown));
        assert_eq!(b.admit(t + cooldown, cooldown), Admission::Probe);
        let probing = Breaker::HalfOpen { until: t + Duration::seconds(30) };
        assert!(matches!(probing.admit(t, cooldown), Admission::WaitUntil(_)));
        assert_eq!(probing.failed(t + cooldown, 3), Breaker::Open { since: t + cooldown });
        assert_eq!(probing.succeeded(), Breaker::Closed { failures: 0 });
    }

    #[test]
    fn a_probe_that_never_came_back_expires() {
        let t = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let probing = Breaker::HalfOpen { until: t };
        assert_eq!(
            probing.admit(t - Duration::seconds(5), Duration::seconds(60)),
            Admission::WaitUntil(t - Duration::seconds(4))
        );
        assert_eq!(probing.admit(t, Duration::seconds(60)), Admission::Probe, "its lease ran out");
        let stored_before: Breaker = serde_json::from_str(r#"{"state":"half_open"}"#).unwrap();
        assert_eq!(stored_before.admit(t, Duration::seconds(60)), Admission::Probe, "an old half-open probe is over");
    }

    #[test]
    fn a_policy_may_decline_to_retry_what_is_retryable() {
        let only_5xx = RetryOn { timeout: false, connection_error: false, throttled: false, server_error: true };
        assert_eq!(only_5xx.verdict(DeliveryOutcome::Timeout), Verdict::Final);
        assert_eq!(
            only_5xx.verdict(DeliveryOutcome::Http { status: 503, retry_after_ms: None }),
            Verdict::Retry { min_delay_ms: None }
        );
        assert_eq!(only_5xx.verdict(DeliveryOutcome::Http { status: 201, retry_after_ms: None }), Verdict::Delivered);
    }

    #[test]
    fn the_idempotency_key_changes_only_with_the_message() {
        assert_eq!(idempotency_key(7, 1), idempotency_key(7, 1));
        assert_ne!(idempotency_key(7, 1), idempotency_key(7, 2));
    }

    proptest! {
        #[test]
        fn a_breaker_never_lets_more_than_one_probe_through(failures in 0u32..20, threshold in 1u32..10, secs in 0i64..200) {
            let t = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
            let mut b = Breaker::Closed { failures: 0 };
            for _ in 0..failures {
                b = b.failed(t, threshold);
            }
            let closed = matches!(b, Breaker::Closed { .. });
            match b.admit(t + Duration::seconds(secs), Duration::seconds(60)) {
                Admission::Probe => prop_assert!(!closed && secs >= 60, "a probe only after the rest"),
                Admission::Go => prop_assert!(closed, "only a closed breaker lets all through"),
                Admission::WaitUntil(_) => prop_assert!(!closed, "a closed breaker never holds back"),
            }
        }
    }
}
