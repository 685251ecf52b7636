//! Replays: connectors and retry policies (admins), replaying an exception's
//! message and following its attempts.

use crossdock::ExceptionId;
use crossdock::replay::{ConnectorSpec, RetryPolicySpec};
use crossdock_app::AppError;
use crossdock_app::dto::{ConnectorEntry, ConnectorTestView, ReplayView, RetryPolicies};
use crossdock_app::ports::ReplaysPort;

use secrecy::SecretString;

use super::{ConsoleServices, answer};
use crate::services::{ConnectorSummary, ReplayStatus, ServiceError};

fn connector_entry(c: ConnectorSummary) -> ConnectorEntry {
    ConnectorEntry { spec: c.spec, has_secret: c.has_secret, breaker: c.breaker }
}

fn replay_view(s: ReplayStatus) -> ReplayView {
    let current = s.corrected.clone().unwrap_or_else(|| s.original.clone());
    let pretty = |v: &serde_json::Value| match v {
        serde_json::Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    ReplayView {
        filed_by: s.filed_by.map(|n| n.to_string()),
        trusted: s.trusted,
        connector: s.connector.map(connector_entry),
        state: s.state,
        note: s.note,
        next_attempt_at: s.next_attempt_at,
        changes: crossdock::replay::json_diff(&s.original, &current),
        original: pretty(&s.original),
        current: pretty(&current),
        jobs: s.jobs,
        attempts: s.attempts,
    }
}

#[async_trait::async_trait]
impl ReplaysPort for ConsoleServices {
    async fn list_connectors(&self) -> Result<Vec<ConnectorEntry>, AppError> {
        answer(async {
            let connectors = self.services.connectors(&self.as_admin().await?).await?;
            Ok(connectors.into_iter().map(connector_entry).collect())
        })
        .await
    }

    async fn save_connector(
        &self,
        connector: ConnectorSpec,
        secret: Option<String>,
        reset_breaker: bool,
    ) -> Result<(), AppError> {
        answer(async {
            let secret = secret.map(SecretString::from);
            let admin = self.as_admin().await?;
            Ok(self.services.save_connector(&admin, &connector, secret.as_ref(), reset_breaker).await?)
        })
        .await
    }

    async fn test_connector(&self, name: String) -> Result<ConnectorTestView, AppError> {
        answer(async {
            let a = self.services.test_connector(&self.as_admin().await?, &name).await?;
            Ok(ConnectorTestView {
                outcome: a.outcome,
                http_status: a.http_status,
                latency_ms: a.latency_ms,
                head: a.head,
            })
        })
        .await
    }

    async fn delete_connector(&self, name: String) -> Result<(), AppError> {
        answer(async { Ok(self.services.delete_connector(&self.as_admin().await?, &name).await?) }).await
    }

    async fn list_retry_policies(&self) -> Result<RetryPolicies, AppError> {
        answer(async {
            let admin = self.as_admin().await?;
            let (policies, queue_policies) = self.services.retry_policies(&admin).await?;
            let (queues, _, _) = self.services.list_queues(&admin.user().viewer());
            Ok(RetryPolicies { policies, queue_policies, queues: queues.into_iter().map(|q| q.spec.key).collect() })
        })
        .await
    }

    async fn save_retry_policy(&self, policy: RetryPolicySpec) -> Result<(), AppError> {
        answer(async { Ok(self.services.save_retry_policy(&self.as_admin().await?, &policy).await?) }).await
    }

    async fn set_queue_retry_policy(&self, queue: String, policy: Option<String>) -> Result<(), AppError> {
        answer(async {
            Ok(self.services.set_queue_retry_policy(&self.as_admin().await?, &queue, policy.as_deref()).await?)
        })
        .await
    }

    async fn replay(&self, id: i64, corrected: Option<serde_json::Value>, confirm: bool) -> Result<i64, AppError> {
        answer(async {
            let worker = self.as_worker().await?;
            let correction = match corrected {
                Some(message) => Some(worker.correction(message).map_err(|_| {
                    AppError::Forbidden("only supervisors and admins correct a message before replaying it".into())
                })?),
                None => None,
            };
            let vouch = match confirm {
                true => Some(worker.vouch().map_err(|_| {
                    AppError::Forbidden(
                        "only supervisors and admins confirm a replay its connector does not trust".into(),
                    )
                })?),
                false => None,
            };
            let queued = self.services.request_replay(&worker, ExceptionId::new(id), correction, vouch).await;
            Ok(queued.map_err(ServiceError::from)?.job)
        })
        .await
    }

    async fn replay_status(&self, id: i64) -> Result<ReplayView, AppError> {
        answer(async {
            let status = self.services.replay_status(&self.as_viewer().await?, ExceptionId::new(id)).await?;
            Ok(replay_view(status))
        })
        .await
    }

    async fn replay_answer(&self, id: i64, job: i64, attempt: i64) -> Result<String, AppError> {
        answer(async {
            let viewer = self.as_viewer().await?;
            Ok(self.services.replay_answer(&viewer, ExceptionId::new(id), job, attempt).await?)
        })
        .await
    }
}
