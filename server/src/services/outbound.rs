//! Outbound HTTP: how Crossdock reaches other systems (replays to their
//! targets). One small trait, so that every sender shares timeouts, the
//! reading of answers, and how outcomes are named.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crossdock::replay::{AttemptOutcome, HttpMethod};
use crossdock::retry::{DeliveryOutcome, parse_retry_after};

use crate::store::leases::Attempt;

/// How much of a target's answer is kept.
pub const RESPONSE_HEAD: usize = 1024;

/// One request to send. Not `Debug`: its headers may carry a secret.
#[derive(Clone)]
pub struct Request<'a> {
    pub method: HttpMethod,
    pub url: &'a str,
    pub timeout: Duration,
    /// Header names and values, sent as given.
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: &'a [u8],
}

/// What came of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub outcome: DeliveryOutcome,
    pub latency: Duration,
    /// The first [`RESPONSE_HEAD`] bytes of the answer, when there was one.
    pub head: Option<String>,
}

impl Answer {
    /// The attempt it was, numbered `number`, as the store records it.
    pub fn attempt(&self, number: i64, started: DateTime<Utc>) -> Attempt<'_> {
        Attempt {
            number,
            started,
            latency_ms: i64::try_from(self.latency.as_millis()).unwrap_or(i64::MAX),
            outcome: AttemptOutcome::of(self.outcome),
            http_status: match self.outcome {
                DeliveryOutcome::Http { status, .. } => Some(i64::from(status)),
                _ => None,
            },
            response_head: self.head.as_deref(),
        }
    }
}

/// What an attempt came to, in a few words for people.
pub fn describe(outcome: DeliveryOutcome, timeout_ms: u32) -> String {
    match outcome {
        DeliveryOutcome::Timeout => format!("no answer within {timeout_ms} ms"),
        DeliveryOutcome::ConnectionError => "could not connect".to_owned(),
        DeliveryOutcome::Http { status, .. } => format!("HTTP {status}"),
    }
}

/// Sends requests to other systems.
#[async_trait::async_trait]
pub trait Outbound: Send + Sync + 'static {
    async fn send(&self, request: Request<'_>) -> Answer;
}

/// Sends over HTTP with reqwest, never following redirects.
pub struct HttpOutbound {
    client: reqwest::Client,
}

impl HttpOutbound {
    pub fn new() -> reqwest::Result<Self> {
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).user_agent("crossdock").build()?;
        Ok(Self { client })
    }
}

#[async_trait::async_trait]
impl Outbound for HttpOutbound {
    async fn send(&self, request: Request<'_>) -> Answer {
        let started = Instant::now();
        let method = match request.method {
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Patch => reqwest::Method::PATCH,
        };
        let mut builder = self.client.request(method, request.url).timeout(request.timeout).body(request.body.to_vec());
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        let (outcome, head) = match builder.send().await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, Utc::now()));
                let mut head = Vec::new();
                while head.len() < RESPONSE_HEAD {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            head.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_HEAD - head.len())])
                        }
                        _ => break,
                    }
                }
                let head = crossdock::text::storable(&String::from_utf8_lossy(&head)).into_owned();
                (DeliveryOutcome::Http { status, retry_after_ms: retry_after }, Some(head))
            }
            Err(err) if err.is_timeout() => (DeliveryOutcome::Timeout, None),
            Err(_) => (DeliveryOutcome::ConnectionError, None),
        };
        Answer { outcome, latency: started.elapsed(), head }
    }
}
