//! `POST /api/v1/events`: the event contract over HTTP, in its three modes
//! (structured, batch, binary).

mod binary;
mod source;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::problem::{Problem, ProblemItem};
use crate::services::ingest::{Forecast, Grouping, Tried};
use crate::services::{EventResult, RejectReason, Services};
use source::{SourceRequest, bad_request};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/events", post(receive))
}

/// How a request carries its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Structured,
    Batch,
    Binary,
}

impl Mode {
    /// The mode a request's content type says; a request without one is in
    /// binary mode when it has `ce-*` attributes (the CloudEvents SDKs leave
    /// the content type out when `datacontenttype` is unset).
    fn of(headers: &HeaderMap) -> Option<Mode> {
        let Some(content_type) = headers.get(header::CONTENT_TYPE) else {
            return binary::has_attribute_headers(headers).then_some(Mode::Binary);
        };
        let content_type = content_type.to_str().ok()?;
        let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/cloudevents+json" => Some(Mode::Structured),
            "application/cloudevents-batch+json" => Some(Mode::Batch),
            "application/json" => Some(Mode::Binary),
            _ => None,
        }
    }
}

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnswerStatus {
    /// Committed (in a dry run: would be).
    Accepted,
    /// The source sent an event with this `id` before; nothing changed.
    Duplicate,
    /// Refused; `errors` says why.
    Rejected,
}

/// What an accepted exception event did to the exceptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExceptionOutcome {
    /// It opened a new exception.
    Opened,
    /// It was counted on an open exception with the same fingerprint.
    Occurrence,
}

/// The answer about one event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventAnswer {
    /// Position in the batch (batch mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The event's `id`, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `accepted` (committed; in a dry run, would be), `duplicate` (sent
    /// before: nothing changed) or `rejected` (see `errors`).
    pub status: AnswerStatus,
    /// For an accepted exception event: the exception it opened or was counted on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception_id: Option<i64>,
    /// `opened` or `occurrence`, for an accepted exception event (in a dry run: what it would be; a
    /// new exception has no number yet, and an occurrence of one the same
    /// request would open neither).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<ExceptionOutcome>,
    /// For a rejected event: the HTTP status it would have had alone (400 or 403).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// For a rejected event: every problem, by JSON pointer into the request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemItem>,
    /// A dry run only (`crossdock-dry-run: true`), for an event that would be
    /// accepted: what it would do. Nothing was stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast: Option<Box<ForecastAnswer>>,
}

/// What an accepted event would do, as a dry run finds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastAnswer {
    /// The business transaction it would be placed in (its `correlationid`,
    /// sent or derived from its business keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "po:PO-10045")]
    pub transaction: Option<String>,
    /// For an exception: the queue it would be filed in (for an occurrence,
    /// the queue of the exception it joins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// For an exception: its severity once routed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "high")]
    pub severity: Option<&'static str>,
    /// For an exception: the person routing would assign it to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// For an exception: the routing rule that chose the queue, as
    /// `<number>. <name>`; absent when the fallback queue took it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// For an exception: the SLA policy that would time it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla_policy: Option<String>,
    /// For a new exception: when it would be due to be acknowledged (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledge_due_at: Option<String>,
    /// For a new exception: when it would be due to be resolved (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolve_due_at: Option<String>,
}

impl ForecastAnswer {
    fn of(forecast: Forecast) -> Self {
        let filing = forecast.filing;
        let time =
            |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        Self {
            transaction: forecast.transaction,
            queue: filing.as_ref().map(|f| f.queue.clone()),
            severity: filing.as_ref().map(|f| f.severity.as_str()),
            assignee: filing.as_ref().and_then(|f| f.assignee.clone()),
            rule: filing.as_ref().and_then(|f| f.rule.as_ref().map(|(n, name)| format!("{n}. {name}"))),
            sla_policy: filing.as_ref().and_then(|f| f.sla_policy.clone()),
            acknowledge_due_at: filing.as_ref().and_then(|f| time(f.acknowledge_due_at)),
            resolve_due_at: filing.as_ref().and_then(|f| time(f.resolve_due_at)),
        }
    }
}

/// The answer to a batch: one entry per event, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAnswer {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub results: Vec<EventAnswer>,
}

/// The answer to a request: one event's (structured and binary modes) or a
/// batch's.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum IngestAnswer {
    Event(EventAnswer),
    Batch(BatchAnswer),
}

fn event_answer(index: Option<usize>, Tried { result, forecast }: Tried) -> EventAnswer {
    let prefix = index.map(|i| format!("/{i}")).unwrap_or_default();
    let grouping = forecast.as_ref().and_then(|f| f.filing.as_ref()).map(|f| f.grouping);
    let forecast = forecast.map(|f| Box::new(ForecastAnswer::of(f)));
    match result {
        EventResult::Accepted { id, exception, opened } => EventAnswer {
            index,
            id: Some(id),
            status: AnswerStatus::Accepted,
            exception_id: exception.map(|e| e.get()),
            exception: match grouping {
                Some(Grouping::Opens) => Some(ExceptionOutcome::Opened),
                Some(Grouping::Joins(_) | Grouping::JoinsEarlier) => Some(ExceptionOutcome::Occurrence),
                None => exception.map(|_| if opened { ExceptionOutcome::Opened } else { ExceptionOutcome::Occurrence }),
            },
            status_code: None,
            errors: Vec::new(),
            forecast,
        },
        EventResult::Duplicate { id } => EventAnswer {
            index,
            id: Some(id),
            status: AnswerStatus::Duplicate,
            exception_id: None,
            exception: None,
            status_code: None,
            errors: Vec::new(),
            forecast: None,
        },
        EventResult::Rejected { id, reason, problems } => EventAnswer {
            index,
            id,
            status: AnswerStatus::Rejected,
            exception_id: None,
            exception: None,
            status_code: Some(match reason {
                RejectReason::Invalid => 400,
                RejectReason::ForeignSource => 403,
            }),
            errors: problems
                .into_iter()
                .map(|p| ProblemItem { pointer: format!("{prefix}{}", p.pointer), detail: p.message })
                .collect(),
            forecast: None,
        },
    }
}

/// Accepts events: one (structured or binary mode) or many (batch mode).
#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "ingest",
    description = "Structured mode (`application/cloudevents+json`) sends one CloudEvent; batch mode \
                   (`application/cloudevents-batch+json`) a JSON array of them. Binary mode sends the `data` \
                   of one event as the body (`application/json`, or no content type) with its attributes in \
                   `ce-*` headers; its body follows the `data` schema of the type named by `ce-type`. An event \
                   may carry `data_base64` (base64 of the JSON `data`) instead of `data`; the schemas here \
                   describe `data` only, those at /api/v1/schemas both. A signing source signs \
                   each request (Standard Webhooks); a `webhook-id` is good for one request and its retries (kept 11 minutes).",
    request_body(
        description = "One CloudEvent, or a batch of them.",
        content(
            (Object = "application/cloudevents+json"),
            (Vec<Object> = "application/cloudevents-batch+json"),
        ),
    ),
    responses(
        (status = 200, description = "Structured or binary mode: the event is committed (or was already). Batch mode: each event's outcome, every valid event committed. With `crossdock-dry-run: true`, what each would do, nothing stored", body = IngestAnswer,
            headers(("crossdock-dry-run" = String, description = "`true` on the answer to a dry run: nothing was stored"))),
        (status = 400, description = "Malformed JSON or an event that breaks the contract", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown, expired or revoked API key, or a bad or stale signature", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The event's `source` is not one the key may write as", body = Problem, content_type = "application/problem+json"),
        (status = 405, description = "Only POST is allowed; see Allow", body = Problem, content_type = "application/problem+json",
            headers(("Allow" = String, description = "POST"))),
        (status = 408, description = "The body stalled longer than the read timeout", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body or the batch is over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported content type", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The source sends faster than its allowance, or a batch is larger than its burst; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before sending again (absent for a batch over the burst: split it)"))),
        (status = 500, description = "The server failed on this request; it was logged", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The server is saturated; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before sending again"))),
    ),
    security(("api_key" = [])),
)]
pub(crate) async fn receive(State(services): State<Services>, request: SourceRequest) -> Response {
    let started = std::time::Instant::now();
    let response = answer(&services, request).await;
    metrics::histogram!(crate::metrics::INGEST_SECONDS).record(started.elapsed().as_secs_f64());
    response
}

/// The header that asks for a dry run.
pub const DRY_RUN: &str = "crossdock-dry-run";

/// Whether the request asks for a dry run: `true` or `false` (any case),
/// absent for no; `None` for any other value.
fn dry_run(headers: &HeaderMap) -> Option<bool> {
    let Some(value) = headers.get(DRY_RUN) else { return Some(false) };
    match value.to_str().map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Ok("true") => Some(true),
        Ok("false") => Some(false),
        _ => None,
    }
}

async fn answer(services: &Services, request: SourceRequest) -> Response {
    let settings = services.ingest_settings();
    let Some(dry) = dry_run(&request.headers) else {
        return bad_request("", format!("the header {DRY_RUN} is `true` or `false`"));
    };
    let values = match decode(request.mode, &request.headers, &request.body, settings.max_batch) {
        Ok(values) => values,
        Err(refusal) => return refusal.into_response(),
    };
    let (source, at, charged) = (&request.source, request.received_at, request.charged);
    let tried = if dry {
        services.ingest_dry_run(source, &values, at, charged).await
    } else {
        services
            .ingest(source, &values, at, charged)
            .await
            .map(|results| results.into_iter().map(|result| Tried { result, forecast: None }).collect())
    };
    match tried {
        Ok(tried) => {
            let mut response = respond(request.mode, tried);
            if dry {
                response.headers_mut().insert(DRY_RUN, axum::http::HeaderValue::from_static("true"));
            }
            response
        }
        Err(err) => err.into_response(),
    }
}

/// Why a request body holds no events to look at.
enum Refusal {
    Invalid(String),
    TooLarge(String),
    Header(crossdock::wire::binary::BadHeader),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Invalid(detail) => bad_request("", detail),
            Refusal::Header(bad) => {
                let item = binary::bad_header(&bad);
                Problem::new(StatusCode::BAD_REQUEST, "/problems/invalid-event", "Invalid event")
                    .pointer(item.pointer.clone())
                    .detail(item.detail.clone())
                    .errors(vec![item])
                    .into_response()
            }
            Refusal::TooLarge(detail) => {
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "/problems/too-large", "Request too large")
                    .detail(detail)
                    .into_response()
            }
        }
    }
}

fn decode(mode: Mode, headers: &HeaderMap, bytes: &[u8], max_batch: usize) -> Result<Vec<Value>, Refusal> {
    let json = |bytes: &[u8]| -> Result<Value, Refusal> {
        serde_json::from_slice(bytes).map_err(|e| Refusal::Invalid(format!("the body is not valid JSON: {e}")))
    };
    match mode {
        Mode::Structured => Ok(vec![json(bytes)?]),
        Mode::Binary => Ok(vec![binary::event_from(headers, json(bytes)?).map_err(Refusal::Header)?]),
        Mode::Batch => match json(bytes)? {
            Value::Array(events) if events.is_empty() => Err(Refusal::Invalid("the batch holds no events".into())),
            Value::Array(events) if events.len() > max_batch => Err(Refusal::TooLarge(format!(
                "the batch holds {} events; at most {max_batch} are accepted",
                events.len()
            ))),
            Value::Array(events) => Ok(events),
            _ => Err(Refusal::Invalid("a batch is a JSON array of events".into())),
        },
    }
}

fn respond(mode: Mode, results: Vec<Tried>) -> Response {
    if mode == Mode::Batch {
        let results: Vec<EventAnswer> =
            results.into_iter().enumerate().map(|(i, r)| event_answer(Some(i), r)).collect();
        let count = |status: AnswerStatus| results.iter().filter(|r| r.status == status).count();
        let body = BatchAnswer {
            accepted: count(AnswerStatus::Accepted),
            duplicates: count(AnswerStatus::Duplicate),
            rejected: count(AnswerStatus::Rejected),
            results,
        };
        return (StatusCode::OK, axum::Json(IngestAnswer::Batch(body))).into_response();
    }
    let Some(result) = results.into_iter().next() else {
        return bad_request("", "no event".into());
    };
    let answer = event_answer(None, result);
    match answer.status_code {
        None => (StatusCode::OK, axum::Json(IngestAnswer::Event(answer))).into_response(),
        Some(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
            let (kind, title) = if code == 403 {
                ("/problems/foreign-source", "Source not allowed for this key")
            } else {
                ("/problems/invalid-event", "Invalid event")
            };
            let errors = if mode == Mode::Binary { binary::name_headers(answer.errors) } else { answer.errors };
            let first = errors.first().map(|e| (e.pointer.clone(), e.detail.clone()));
            let mut problem = Problem::new(status, kind, title).errors(errors);
            if let Some((pointer, detail)) = first {
                problem = problem.pointer(pointer).detail(detail);
            }
            problem.into_response()
        }
    }
}
