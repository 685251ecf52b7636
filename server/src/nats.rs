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
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::message::{AckKind, Message};
use async_nats::jetstream::stream;
use chrono::Utc;
use crossdock::source::SubjectPattern;
use futures::StreamExt;
use tokio::sync::watch;

use crate::services::{EventResult, ServiceError, Services};
use crate::store::dead_letters::NewDeadLetter;

mod message;
use message::{event_of, headers_for_dead_letter};

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
/// Deliveries after which a message that keeps failing (not for want of
/// allowance or room) is set aside rather than tried again.
const MAX_FAILED_DELIVERIES: i64 = 20;
/// Errors of the pull in a row after which the consumer is bound again.
const MAX_PULL_ERRORS: usize = 20;

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
        // A failed pull (a missed heartbeat, a lost connection being made
        // again) is logged and passed over; the messages in hand go on. Many
        // in a row end the pull, and the consumer is bound again.
        let errors = std::sync::atomic::AtomicUsize::new(0);
        let errors = &errors;
        messages
            .take_until(stopped)
            .take_while(|_| std::future::ready(errors.load(std::sync::atomic::Ordering::Relaxed) < MAX_PULL_ERRORS))
            .filter_map(|message| async move {
                match message {
                    Ok(message) => {
                        errors.store(0, std::sync::atomic::Ordering::Relaxed);
                        Some(message)
                    }
                    Err(e) => {
                        errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tracing::warn!(error = %e, "a pull from the NATS consumer failed");
                        None
                    }
                }
            })
            .for_each_concurrent(IN_FLIGHT, |message| async move { self.handle(services, message).await })
            .await;
        anyhow::ensure!(
            errors.load(std::sync::atomic::Ordering::Relaxed) < MAX_PULL_ERRORS,
            "{MAX_PULL_ERRORS} pulls from the NATS consumer failed in a row"
        );
        Ok(())
    }

    /// Ingests one message and settles it with the server.
    async fn handle(&self, services: &Services, message: Message) {
        let mut settle = self.ingest(services, &message).await;
        if let Settle::Fail(failure) = &settle {
            let delivered = message.info().map(|i| i.delivered).unwrap_or_default();
            if delivered >= MAX_FAILED_DELIVERIES {
                let source_id = services.source_for_subject(&message.subject).await.ok().flatten().map(|s| s.id);
                let reason = format!("failed {delivered} times; the last time: {failure}");
                settle = Settle::Refuse { source_id, reason };
            }
        }
        let settled = match settle {
            Settle::Ack => message.ack().await,
            Settle::Retry(delay) => message.ack_with(AckKind::Nak(Some(delay))).await,
            Settle::Fail(_) => message.ack_with(AckKind::Nak(Some(RETRY_AFTER_FAILURE))).await,
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
                return Settle::Fail(format!("the source could not be looked up: {e}"));
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
                None => Settle::Fail("the event had no answer".into()),
            },
            Err(ServiceError::Throttled(wait)) => Settle::Retry(wait.max(Duration::from_millis(100))),
            Err(ServiceError::Overloaded) => Settle::Retry(RETRY_WHEN_BUSY),
            Err(e) => {
                tracing::error!(error = %e, "cannot ingest a NATS message");
                Settle::Fail(e.to_string())
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
        let headers = headers_for_dead_letter(message.headers.as_ref(), reason, &message.subject, stream_seq);
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
    /// Delivered again after the delay: the allowance spent, the writer full.
    Retry(Duration),
    /// Failed (the database, the writer): delivered again after a pause, and
    /// set aside after [`MAX_FAILED_DELIVERIES`].
    Fail(String),
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
    fn the_dead_letter_subject_is_concrete_and_outside_the_stream() {
        assert!(settings(&["crossdock.events.>"], "crossdock.dead-letter").is_ok());
        let looping = settings(&["crossdock.>"], "crossdock.dead-letter").unwrap_err().to_string();
        assert!(looping.contains("would come back"), "{looping}");
        assert!(settings(&["crossdock.events.>"], "dead.*").is_err());
        assert!(settings(&["a..b"], "dead").is_err());
    }
}
