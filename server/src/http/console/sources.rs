//! Sources and their keys, for admins.

use crossdock::source::{Prefixes, SubjectPattern};
use crossdock_app::AppError;
use crossdock_app::dto::{DeadLetterEntry, SourceEntry, TriedEvent, TriedFiling, TriedGrouping, TriedStatus};
use crossdock_app::ports::{SourceInput, SourcesPort};
use secrecy::ExposeSecret;

use super::{ConsoleServices, answer};
use crate::services::ingest::{Grouping, Tried};
use crate::services::{EventResult, PreviousSecrets, SourceSettings};

fn settings(input: SourceInput) -> Result<SourceSettings, AppError> {
    let prefixes = Prefixes::parse_list(&input.prefixes).map_err(|e| AppError::invalid("prefixes", e))?;
    let subject = input.nats_subject.trim();
    let nats_subject = (!subject.is_empty())
        .then(|| SubjectPattern::parse(subject).map_err(|rule| AppError::invalid("nats_subject", rule)))
        .transpose()?;
    Ok(SourceSettings {
        name: input.name,
        prefixes,
        rate_per_sec: input.rate_per_sec,
        burst: input.burst,
        nats_subject,
    })
}

#[async_trait::async_trait]
impl SourcesPort for ConsoleServices {
    async fn list_sources(&self) -> Result<Vec<SourceEntry>, AppError> {
        answer(async {
            let sources = self.services.list_sources(&self.as_admin().await?).await?;
            Ok(sources
                .into_iter()
                .map(|s| SourceEntry {
                    name: s.name,
                    prefixes: s.prefixes.iter().map(ToString::to_string).collect(),
                    rate_per_sec: s.rate_per_sec,
                    burst: s.burst,
                    signed: s.signed,
                    created_at: s.created_at,
                    nats_subject: s.nats_subject.map(String::from),
                    dead_letters: s.dead_letters,
                })
                .collect())
        })
        .await
    }

    async fn create_source(&self, input: SourceInput) -> Result<String, AppError> {
        answer(async {
            let issued = self.services.create_source(&self.as_admin().await?, &settings(input)?).await?;
            Ok(issued.key.expose_secret().to_owned())
        })
        .await
    }

    async fn update_source(&self, input: SourceInput) -> Result<(), AppError> {
        answer(async { Ok(self.services.update_source(&self.as_admin().await?, &settings(input)?).await?) }).await
    }

    async fn rotate_source_key(&self, name: String, grace_hours: u32) -> Result<String, AppError> {
        answer(async {
            let grace = chrono::Duration::hours(i64::from(grace_hours));
            let issued = self.services.rotate_source_key(&self.as_admin().await?, &name, grace).await?;
            Ok(issued.key.expose_secret().to_owned())
        })
        .await
    }

    async fn revoke_source_keys(&self, name: String) -> Result<u64, AppError> {
        answer(async { Ok(self.services.revoke_source_keys(&self.as_admin().await?, &name).await?) }).await
    }

    async fn dead_letters(&self, name: Option<String>) -> Result<Vec<DeadLetterEntry>, AppError> {
        answer(async {
            let letters = self.services.dead_letters_of(&self.as_admin().await?, name.as_deref()).await?;
            Ok(letters
                .into_iter()
                .map(|l| DeadLetterEntry {
                    at: l.at,
                    subject: l.subject,
                    stream_seq: l.stream_seq,
                    reason: l.reason,
                    body: l.body,
                })
                .collect())
        })
        .await
    }

    async fn try_events(&self, name: String, events: String) -> Result<Vec<TriedEvent>, AppError> {
        answer(async {
            let admin = self.as_admin().await?;
            let values = match serde_json::from_str(&events) {
                Ok(serde_json::Value::Array(values)) => values,
                Ok(value) => vec![value],
                Err(e) => return Err(AppError::invalid("events", format!("this is not JSON: {e}"))),
            };
            let tried = self.services.send_as_source(&admin, &name, &values, true).await?;
            Ok(tried.into_iter().map(tried_event).collect())
        })
        .await
    }

    async fn add_signing_secret(
        &self,
        name: String,
        replace: bool,
        retire_after_hours: Option<u32>,
    ) -> Result<String, AppError> {
        answer(async {
            let previous = match (replace, retire_after_hours) {
                (true, _) => PreviousSecrets::RetireAfter(chrono::Duration::zero()),
                (false, Some(hours)) => PreviousSecrets::RetireAfter(chrono::Duration::hours(i64::from(hours))),
                (false, None) => PreviousSecrets::Keep,
            };
            let secret = self.services.add_signing_secret(&self.as_admin().await?, &name, previous).await?;
            Ok(secret.expose_secret().to_owned())
        })
        .await
    }
}

/// One event of a dry run as the page shows it.
fn tried_event(Tried { result, forecast }: Tried) -> TriedEvent {
    let (id, status, problems) = match result {
        EventResult::Accepted { id, .. } => (Some(id), TriedStatus::Accepted, Vec::new()),
        EventResult::Duplicate { id } => (Some(id), TriedStatus::Duplicate, Vec::new()),
        EventResult::Rejected { id, problems, .. } => {
            (id, TriedStatus::Rejected, problems.into_iter().map(|p| (p.pointer, p.message)).collect())
        }
    };
    let (transaction, filing) = forecast.map_or((None, None), |f| {
        let filing = f.filing.map(|x| TriedFiling {
            queue: x.queue,
            severity: x.severity,
            assignee: x.assignee,
            rule: x.rule.map(|(n, name)| format!("{n}. {name}")),
            sla_policy: x.sla_policy,
            acknowledge_due_at: x.acknowledge_due_at,
            resolve_due_at: x.resolve_due_at,
            grouping: match x.grouping {
                Grouping::Opens => TriedGrouping::Opens,
                Grouping::Joins(e) => TriedGrouping::Joins(e.get()),
                Grouping::JoinsEarlier => TriedGrouping::JoinsEarlier,
            },
        });
        (f.transaction, filing)
    });
    TriedEvent { id, status, problems, transaction, filing }
}
