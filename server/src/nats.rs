//! Ingest from NATS JetStream: a durable pull consumer beside the HTTP API.
//!
//! Each message is one CloudEvent, in structured mode (the JSON event as the
//! body) or in binary mode (attributes in `ce-*` headers, `data` as the body),
//! as the CloudEvents NATS protocol binding describes. Its subject names the
//! source (each source's subject pattern); it then goes through the same
//! checks, idempotency, routing and grouping as an HTTP request. A message is
//! acknowledged once its transaction committed; a passing failure (the
//! source's allowance spent, the writer saturated, the database failing) is
//! a `nak` with a delay; a message that can never be accepted is kept with
//! its reason for admins, published on the dead-letter subject and
//! terminated. Every instance binds the same durable consumer, so they share
//! the stream; a message redelivered after a crash is a duplicate by its
//! event id, stored once.

use std::time::Duration;

use anyhow::Context;
use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::message::{AckKind, Message};
use async_nats::jetstream::stream;
use chrono::Utc;
use crossdock::source::SubjectPattern;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use tokio::sync::watch;

use crate::services::{EventResult, ServiceError, Services};
use crate::store::dead_letters::NewDeadLetter;

/// Messages handled at once by one instance; the group commit of the
/// ingest writer batches them.
const IN_FLIGHT: usize = 256;
/// How long a message stays unacknowledged before the server delivers it
/// again.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// The delay of a `nak` after the database or the writer failed.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);
/// The delay of a `nak` when the writer is saturated.
const RETRY_WHEN_BUSY: Duration = Duration::from_secs(1);
/// How long a failed consumer waits before it binds again.
const RESTART_PAUSE: Duration = Duration::from_secs(2);

/// Where events come from on NATS, as the flags give it.
#[derive(Debug, Clone)]
pub struct NatsSettings {
    pub url: String,
    /// The stream the events are in.
    pub stream: String,
    /// The subjects of the stream, when Crossdock creates it.
    pub subjects: Vec<SubjectPattern>,
    /// The durable consumer every instance binds.
    pub consumer: String,
    /// Where a message that can never be accepted is published.
    pub dead_letter: String,
}

impl NatsSettings {
    /// Checks the flags: names JetStream accepts, subjects that parse, and a
    /// dead-letter subject outside the stream (a dead letter must not come
    /// back as an event).
    pub fn new(
        url: String,
        stream: String,
        subjects: &[String],
        consumer: String,
        dead_letter: String,
    ) -> anyhow::Result<Self> {
        let name_ok = |name: &str| {
            !name.is_empty()
                && name.len() <= 255
                && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        };
        anyhow::ensure!(name_ok(&stream), "--nats-stream: a stream name is letters, digits, `-` or `_`");
        anyhow::ensure!(name_ok(&consumer), "--nats-consumer: a consumer name is letters, digits, `-` or `_`");
        let subjects = subjects
            .iter()
            .map(|s| SubjectPattern::parse(s).map_err(|rule| anyhow::anyhow!("--nats-subjects: `{s}`: {rule}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(!subjects.is_empty(), "--nats-subjects: at least one subject");
        let concrete = SubjectPattern::parse(&dead_letter)
            .ok()
            .filter(|p| !p.as_str().split('.').any(|t| t == "*" || t == ">"))
            .ok_or_else(|| anyhow::anyhow!("--nats-dead-letter-subject: a subject without wildcards"))?;
        if let Some(taken) = subjects.iter().find(|s| s.takes(concrete.as_str())) {
            anyhow::bail!(
                "--nats-dead-letter-subject: `{dead_letter}` is one of the stream's subjects (`{taken}`): \
                 dead letters would come back as events"
            );
        }
        Ok(Self { url, stream, subjects, consumer, dead_letter })
    }
}

/// A bound consumer, ready to run.
pub struct NatsIngest {
    client: async_nats::Client,
    consumer: PullConsumer,
    settings: NatsSettings,
}

impl NatsIngest {
    /// Connects, creates the stream when it is missing and binds the
    /// durable consumer (created when missing).
    pub async fn connect(settings: NatsSettings) -> anyhow::Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .name("crossdock")
            .connection_timeout(Duration::from_secs(5))
            .connect(settings.url.as_str())
            .await
            .with_context(|| format!("cannot reach NATS at {}", settings.url))?;
        let consumer = bind(&client, &settings).await?;
        tracing::info!(stream = %settings.stream, consumer = %settings.consumer, "taking events from NATS");
        Ok(Self { client, consumer, settings })
    }

    /// Takes messages until `stop` turns true, then lets those in hand
    /// finish. A consumer that fails binds again after a pause.
    pub async fn run(mut self, services: Services, mut stop: watch::Receiver<bool>) {
        loop {
            let outcome = self.consume(&services, stop.clone()).await;
            if *stop.borrow() {
                return;
            }
            if let Err(e) = outcome {
                tracing::error!(error = format!("{e:#}"), "NATS ingest stopped; binding again");
            }
            tokio::select! {
                _ = tokio::time::sleep(RESTART_PAUSE) => {}
                _ = stop.changed() => return,
            }
            match bind(&self.client, &self.settings).await {
                Ok(consumer) => self.consumer = consumer,
                Err(e) => tracing::error!(error = format!("{e:#}"), "cannot bind the NATS consumer"),
            }
        }
    }

    async fn consume(&self, services: &Services, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let messages = self.consumer.messages().await.context("cannot pull from the NATS consumer")?;
        let stopped = async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        };
        messages
            .take_until(stopped)
            .map_err(|e| anyhow::anyhow!("the NATS consumer failed: {e}"))
            .try_for_each_concurrent(IN_FLIGHT, |message| async move {
                self.handle(services, message).await;
                Ok(())
            })
            .await
    }

    /// Ingests one message and settles it with the server.
    async fn handle(&self, services: &Services, message: Message) {
        let settled = match self.ingest(services, &message).await {
            Settle::Ack => message.ack().await,
            Settle::Retry(delay) => message.ack_with(AckKind::Nak(Some(delay))).await,
            Settle::Refuse { source_id, reason } => {
                match self.set_aside(services, &message, source_id, &reason).await {
                    Ok(()) => message.ack_with(AckKind::Term).await,
                    Err(e) => {
                        tracing::error!(error = format!("{e:#}"), "cannot set a NATS message aside");
                        message.ack_with(AckKind::Nak(Some(RETRY_AFTER_FAILURE))).await
                    }
                }
            }
        };
        if let Err(e) = settled {
            // Not settled: the server delivers it again after the ack wait.
            tracing::warn!(error = %e, subject = %message.subject, "cannot settle a NATS message");
        }
    }

    async fn ingest(&self, services: &Services, message: &Message) -> Settle {
        let subject = message.subject.as_str();
        let source = match services.source_for_subject(subject).await {
            Ok(Some(source)) => source,
            Ok(None) => {
                return Settle::Refuse { source_id: None, reason: format!("no source takes the subject `{subject}`") };
            }
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "cannot look up the source of a NATS subject");
                return Settle::Retry(RETRY_AFTER_FAILURE);
            }
        };
        let event = match event_of(message.headers.as_ref(), &message.payload) {
            Ok(event) => event,
            Err(reason) => return Settle::Refuse { source_id: Some(source.id), reason },
        };
        match services.ingest(&source, std::slice::from_ref(&event), Utc::now(), 0).await {
            Ok(results) => match results.into_iter().next() {
                Some(EventResult::Accepted { .. } | EventResult::Duplicate { .. }) => Settle::Ack,
                Some(EventResult::Rejected { problems, .. }) => {
                    let reason = problems
                        .iter()
                        .map(|p| {
                            if p.pointer.is_empty() {
                                p.message.clone()
                            } else {
                                format!("{}: {}", p.pointer, p.message)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    Settle::Refuse { source_id: Some(source.id), reason }
                }
                None => Settle::Retry(RETRY_AFTER_FAILURE),
            },
            Err(ServiceError::Throttled(wait)) => Settle::Retry(wait.max(Duration::from_millis(100))),
            Err(ServiceError::Overloaded) => Settle::Retry(RETRY_WHEN_BUSY),
            Err(e) => {
                tracing::error!(error = %e, "cannot ingest a NATS message");
                Settle::Retry(RETRY_AFTER_FAILURE)
            }
        }
    }

    /// Keeps a refused message with its reason for admins, then publishes it
    /// on the dead-letter subject with the reason in its headers.
    async fn set_aside(
        &self,
        services: &Services,
        message: &Message,
        source_id: Option<i64>,
        reason: &str,
    ) -> anyhow::Result<()> {
        let stream_seq = message.info().map(|i| i.stream_sequence).unwrap_or_default();
        let letter = NewDeadLetter {
            at: Utc::now(),
            source_id,
            subject: message.subject.as_str(),
            stream_seq,
            reason,
            body: &message.payload,
        };
        services.record_dead_letter(&letter).await?;
        let mut headers = message.headers.clone().unwrap_or_default();
        headers.insert("Crossdock-Reason", one_line(reason).as_str());
        headers.insert("Crossdock-Subject", message.subject.as_str());
        headers.insert("Crossdock-Stream-Sequence", stream_seq.to_string().as_str());
        self.client
            .publish_with_headers(self.settings.dead_letter.clone(), headers, message.payload.clone())
            .await
            .context("cannot publish a dead letter")?;
        self.client.flush().await.context("cannot publish a dead letter")?;
        tracing::warn!(subject = %message.subject, stream_seq, reason, "a NATS message was set aside");
        Ok(())
    }
}

/// What becomes of a message.
enum Settle {
    Ack,
    /// Delivered again after the delay.
    Retry(Duration),
    /// Never accepted: set aside.
    Refuse {
        source_id: Option<i64>,
        reason: String,
    },
}

/// Creates the stream when it is missing and binds the durable consumer.
async fn bind(client: &async_nats::Client, settings: &NatsSettings) -> anyhow::Result<PullConsumer> {
    let jetstream = async_nats::jetstream::new(client.clone());
    let stream = jetstream
        .get_or_create_stream(stream::Config {
            name: settings.stream.clone(),
            subjects: settings.subjects.iter().map(|s| s.as_str().to_owned()).collect(),
            ..Default::default()
        })
        .await
        .with_context(|| format!("cannot open the JetStream stream {}", settings.stream))?;
    stream
        .get_or_create_consumer(
            &settings.consumer,
            pull::Config {
                durable_name: Some(settings.consumer.clone()),
                ack_policy: AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                max_ack_pending: 4 * IN_FLIGHT as i64,
                ..Default::default()
            },
        )
        .await
        .with_context(|| format!("cannot bind the durable consumer {}", settings.consumer))
}

/// The CloudEvent a message carries: in binary mode when it has a
/// `ce-specversion` header, in structured mode otherwise.
fn event_of(headers: Option<&HeaderMap>, payload: &[u8]) -> Result<Value, String> {
    let pairs: Vec<(String, &str)> = headers
        .into_iter()
        .flat_map(HeaderMap::iter)
        .filter_map(|(name, values)| Some((AsRef::<str>::as_ref(name).to_ascii_lowercase(), values.first()?.as_str())))
        .collect();
    let body: Value = serde_json::from_slice(payload).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    if !pairs.iter().any(|(name, _)| name == "ce-specversion") {
        if body.is_array() {
            return Err("a message carries one event, not a batch".into());
        }
        return Ok(body);
    }
    if let Some((_, content_type)) = pairs.iter().find(|(name, _)| name == "content-type")
        && !content_type.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json")
    {
        return Err(format!("binary mode carries `data` as application/json, not {content_type}"));
    }
    crossdock::wire::binary::event_from(pairs.iter().map(|(n, v)| (n.as_str(), v.as_bytes())), body)
        .map_err(|bad| format!("header {}: {}", bad.header, bad.detail))
}

/// A reason fit for a header: one line.
fn one_line(reason: &str) -> String {
    reason.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(subjects: &[&str], dead_letter: &str) -> anyhow::Result<NatsSettings> {
        let subjects: Vec<String> = subjects.iter().map(|s| (*s).to_owned()).collect();
        NatsSettings::new(
            "nats://127.0.0.1:4222".into(),
            "EVENTS".into(),
            &subjects,
            "crossdock".into(),
            dead_letter.into(),
        )
    }

    #[test]
    fn a_dead_letter_subject_outside_the_stream_and_concrete() {
        assert!(settings(&["crossdock.events.>"], "crossdock.dead-letter").is_ok());
        let looping = settings(&["crossdock.>"], "crossdock.dead-letter").unwrap_err().to_string();
        assert!(looping.contains("would come back"), "{looping}");
        assert!(settings(&["crossdock.events.>"], "dead.*").is_err());
        assert!(settings(&["a..b"], "dead").is_err());
    }

    #[test]
    fn a_message_is_read_in_structured_or_binary_mode() {
        let structured = event_of(None, br#"{"specversion":"1.0","id":"e1"}"#).unwrap();
        assert_eq!(structured["id"], "e1");
        assert!(event_of(None, b"[]").unwrap_err().contains("batch"));
        assert!(event_of(None, b"not json").unwrap_err().contains("not valid JSON"));

        let mut headers = HeaderMap::new();
        headers.insert("ce-specversion", "1.0");
        headers.insert("ce-id", "PO%2010045");
        let binary = event_of(Some(&headers), br#"{"qty":3}"#).unwrap();
        assert_eq!(binary["id"], "PO 10045");
        assert_eq!(binary["data"]["qty"], 3);
        headers.insert("content-type", "text/plain");
        assert!(event_of(Some(&headers), br#"{"qty":3}"#).unwrap_err().contains("application/json"));
    }
}
