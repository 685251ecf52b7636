//! Notification channels: where notifications go beyond the console. A
//! channel is a generic JSON webhook (signed with Standard Webhooks, like the
//! ingest side) or a Slack- or Microsoft Teams-compatible incoming webhook;
//! it carries the levels and queues an admin picks, to the people who chose
//! to have those levels sent outward.

use std::collections::BTreeSet;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::escalation::EscalationLevel;
use crate::replay::is_http_url;
use crate::{FieldProblem, Severity, named_enum};

named_enum! {
    /// The message format a channel speaks.
    pub enum ChannelKind ("channel kind") {
        /// A JSON message signed with Standard Webhooks headers.
        Webhook => "webhook",
        /// A Slack incoming webhook (`text` and Block Kit).
        Slack => "slack",
        /// A Microsoft Teams incoming webhook (an Adaptive Card).
        Teams => "teams",
    }
}

impl ChannelKind {
    pub const fn label(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "JSON webhook (signed)",
            ChannelKind::Slack => "Slack",
            ChannelKind::Teams => "Microsoft Teams",
        }
    }

    /// Whether messages carry a Standard Webhooks signature (and the channel
    /// a signing secret).
    pub const fn signed(self) -> bool {
        matches!(self, ChannelKind::Webhook)
    }
}

fn every_level() -> BTreeSet<EscalationLevel> {
    EscalationLevel::ALL.iter().copied().collect()
}

const fn default_timeout() -> u32 {
    5_000
}

const fn yes() -> bool {
    true
}

/// A channel as an admin sets it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSpec {
    pub name: String,
    pub kind: ChannelKind,
    pub url: String,
    /// The levels of notification it carries.
    #[serde(default = "every_level")]
    pub levels: BTreeSet<EscalationLevel>,
    /// The queues whose notifications it carries; every queue when empty.
    #[serde(default)]
    pub queues: Vec<String>,
    /// The retry policy its deliveries follow; none for the standard one.
    #[serde(default)]
    pub retry_policy: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u32,
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl ChannelSpec {
    pub const MIN_TIMEOUT_MS: u32 = 100;
    pub const MAX_TIMEOUT_MS: u32 = 30_000;
    pub const MAX_QUEUES: usize = 100;

    /// A new channel of `kind` to `url` carrying every level of every queue.
    pub fn new(name: &str, kind: ChannelKind, url: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            url: url.to_owned(),
            levels: every_level(),
            queues: Vec::new(),
            retry_policy: None,
            timeout_ms: default_timeout(),
            enabled: true,
        }
    }

    /// Checks a channel as an admin entered it; every problem is reported.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut push =
            |pointer: &str, message: String| problems.push(FieldProblem { pointer: pointer.into(), message });
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.contains(char::is_control) || name != self.name {
            push("/name", "a name of 1 to 64 characters, without spaces around it, is required".into());
        }
        if !is_http_url(&self.url) {
            push("/url", "must be an http:// or https:// URL".into());
        }
        if self.levels.is_empty() {
            push("/levels", "pick at least one level to carry".into());
        }
        if self.queues.len() > Self::MAX_QUEUES {
            push("/queues", format!("at most {} queues", Self::MAX_QUEUES));
        }
        if self.queues.iter().any(|q| q.trim().is_empty() || q.len() > 64 || !crate::text::is_one_line(q)) {
            push("/queues", "each queue is a queue key".into());
        }
        if self.retry_policy.as_deref().is_some_and(|p| p.trim().is_empty() || !crate::text::is_one_line(p)) {
            push("/retry_policy", "name a retry policy, or none for the standard one".into());
        }
        if !(Self::MIN_TIMEOUT_MS..=Self::MAX_TIMEOUT_MS).contains(&self.timeout_ms) {
            push("/timeout_ms", format!("must be between {} and {} ms", Self::MIN_TIMEOUT_MS, Self::MAX_TIMEOUT_MS));
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }

    /// The channel as the audit trail keeps it: the address cut to its
    /// scheme and host (an incoming webhook's path is its credential).
    pub fn redacted(&self) -> Self {
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("", ""));
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        Self { url: format!("{scheme}://{host}/…"), ..self.clone() }
    }

    /// Whether it carries a notification of `level` about an exception in `queue`.
    pub fn carries(&self, level: EscalationLevel, queue: &str) -> bool {
        self.enabled
            && self.levels.contains(&level)
            && (self.queues.is_empty() || self.queues.iter().any(|q| q == queue))
    }
}

/// The levels a person has sent outward, kept as the levels' bits.
pub fn levels_from_bits(bits: i64) -> BTreeSet<EscalationLevel> {
    EscalationLevel::ALL.iter().copied().filter(|l| bits & l.bit() != 0).collect()
}

pub fn bits_of_levels(levels: &BTreeSet<EscalationLevel>) -> i64 {
    levels.iter().fold(0, |bits, l| bits | l.bit())
}

/// Someone a notice is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub username: String,
    pub display_name: String,
}

/// The exception a notice is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSubject {
    pub id: i64,
    pub queue: String,
    pub severity: Severity,
    pub summary: String,
    /// Where the console shows it.
    pub url: String,
}

/// What a channel is told: one step of escalation, or a test message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// `None` for a test message an admin sent.
    pub level: Option<EscalationLevel>,
    pub title: String,
    pub subject: Option<NoticeSubject>,
    pub recipients: Vec<Recipient>,
    pub at: DateTime<Utc>,
}

impl Notice {
    /// The event type a JSON webhook message carries.
    pub fn event_type(&self) -> String {
        format!("notification.{}", self.level.map_or("test", EscalationLevel::as_str))
    }

    fn heading(&self) -> &'static str {
        self.level.map_or("Test message", EscalationLevel::label)
    }

    fn for_whom(&self) -> String {
        self.recipients.iter().map(|r| r.display_name.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Slack's mrkdwn treats these three as control characters.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The JSON body a channel of `kind` is sent for `notice`.
pub fn message(kind: ChannelKind, notice: &Notice) -> Value {
    match kind {
        ChannelKind::Webhook => json!({
            "type": notice.event_type(),
            "timestamp": notice.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "data": {
                "level": notice.level,
                "title": notice.title,
                "exception": notice.subject,
                "recipients": notice.recipients,
            },
        }),
        ChannelKind::Slack => {
            let title = match &notice.subject {
                Some(s) => format!("<{}|{}>", slack_escape(&s.url), slack_escape(&notice.title)),
                None => slack_escape(&notice.title),
            };
            let mut text = format!("*{}*: {title}", notice.heading());
            if !notice.recipients.is_empty() {
                text.push_str(&format!("\nFor {}", slack_escape(&notice.for_whom())));
            }
            json!({
                "text": slack_escape(&format!("{}: {}", notice.heading(), notice.title)),
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            })
        }
        ChannelKind::Teams => {
            let mut body = vec![
                json!({"type": "TextBlock", "text": notice.heading(), "weight": "Bolder", "size": "Medium"}),
                json!({"type": "TextBlock", "text": notice.title, "wrap": true}),
            ];
            if !notice.recipients.is_empty() {
                body.push(json!({"type": "TextBlock", "text": format!("For {}", notice.for_whom()), "wrap": true, "isSubtle": true}));
            }
            let actions: Vec<Value> = notice
                .subject
                .iter()
                .map(|s| json!({"type": "Action.OpenUrl", "title": "Open in Crossdock", "url": s.url}))
                .collect();
            json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": body,
                        "actions": actions,
                    },
                }],
            })
        }
    }
}

named_enum! {
    /// Where one message to a channel stands.
    pub enum DeliveryState ("delivery state") {
        Pending => "pending",
        Running => "running",
        Delivered => "delivered",
        Failed => "failed",
    }
}

/// One message to a channel, as admins follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub channel: String,
    /// `None` for a test message.
    pub level: Option<EscalationLevel>,
    pub exception_id: Option<i64>,
    /// How many people it was for.
    pub recipients: i64,
    pub state: DeliveryState,
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due, while one is.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub attempts: Vec<DeliveryAttempt>,
}

/// One attempt at a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub number: i64,
    pub started_at: DateTime<Utc>,
    pub latency_ms: i64,
    pub outcome: crate::replay::AttemptOutcome,
    pub http_status: Option<i64>,
    /// The first KiB of the answer.
    pub response_head: Option<String>,
}

#[cfg(test)]
mod tests;
