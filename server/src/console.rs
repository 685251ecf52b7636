//! The console port, implemented over the services: each call acts as the
//! person signed in to the current request, whose role the services check.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use crossdock::ExceptionId;
use crossdock::config::SiteSpec;
use crossdock::replay::{ConnectorSpec, JobState, RetryPolicySpec};
use crossdock::routing::{RouteDecision, RuleSetSpec};
use crossdock::sla::SlaPolicySpec;
use crossdock::triage::{Cursor, QueueCounts, QueueFilter, QueuePage, TriageAction};
use crossdock_app::AppError;
use crossdock_app::dto::{
    AssigneeOption, AttemptView, AuditEntryView, BulkItemView, BulkJobView, BulkTarget, ConfigVersionView,
    ConnectorEntry, ExceptionDetailView, Me, MoveView, OccurrenceView, QueueChoices, QueueEntry, RecentEvent,
    ReplayJobView, ReplayView, RetryPolicies, RoutingChoices, SavedViewEntry, SourceEntry, UserEntry,
};
use crossdock_app::error::FieldError;
use crossdock_app::ports::{Console, ConsolePort, QueueInput, SourceInput, UserInput};
use tower_sessions::Session;

use crate::auth::{CurrentUser, Denied, UserId};
use crate::http::session::{self, SessionSettings};
use crate::services::{
    ConnectorSummary, LoginError, Move, MoveOutcome, NewUser, ReplayStatus, ServiceError, Services, SourceSettings,
    UserChanges, UserSummary,
};
use crate::store::from_millis;

struct ConsoleServices {
    services: Services,
    sessions: SessionSettings,
}

/// The services as the console's server functions reach them.
pub fn console(services: Services, sessions: SessionSettings) -> Console {
    Arc::new(ConsoleServices { services, sessions })
}

impl From<ServiceError> for AppError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid { field, message } => AppError::Invalid { field, message },
            ServiceError::Problems(problems) => AppError::Fields(
                problems
                    .into_iter()
                    .map(|p| FieldError { field: p.pointer.trim_start_matches('/').to_owned(), message: p.message })
                    .collect(),
            ),
            ServiceError::NotFound(_) => AppError::NotFound,
            ServiceError::Forbidden(message) => AppError::NotAllowed(message),
            ServiceError::Conflict(message) => AppError::Conflict(message),
            ServiceError::Overloaded => AppError::Unavailable,
            ServiceError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "console request failed");
                AppError::Internal
            }
        }
    }
}

fn denied(denied: Denied) -> AppError {
    tracing::info!(role = %denied.role, permission = %denied.permission, "denied");
    AppError::Forbidden
}

/// Runs a use case, giving its error the HTTP status it stands for.
async fn answer<T>(work: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    work.await.map_err(crossdock_app::ports::with_status)
}

async fn request_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer on this request");
        AppError::Internal
    })
}

async fn client_address() -> String {
    leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn me(user: &CurrentUser) -> Me {
    Me {
        username: user.username.to_string(),
        display_name: user.display_name.clone(),
        role: user.role,
        queues: user.queues.iter().map(|q| q.to_string()).collect(),
    }
}

fn user_entry(u: UserSummary) -> UserEntry {
    UserEntry {
        id: u.id.0,
        username: u.username,
        display_name: u.display_name,
        role: u.role,
        queues: u.queues,
        disabled: u.disabled,
        demo: u.demo,
    }
}

fn source_settings(input: SourceInput) -> SourceSettings {
    SourceSettings { name: input.name, prefix: input.prefix, rate_per_sec: input.rate_per_sec, burst: input.burst }
}

impl ConsoleServices {
    /// The signed-in person, or `Unauthenticated`.
    async fn user(&self) -> Result<CurrentUser, AppError> {
        let session = request_session().await?;
        session::signed_in(&session, &self.services, &self.sessions).await?.ok_or(AppError::Unauthenticated)
    }
}

#[async_trait::async_trait]
impl ConsolePort for ConsoleServices {
    async fn me(&self) -> Result<Option<Me>, AppError> {
        answer(async {
            let session = request_session().await?;
            Ok(session::signed_in(&session, &self.services, &self.sessions).await?.as_ref().map(me))
        })
        .await
    }

    async fn login(&self, username: String, password: String) -> Result<Me, AppError> {
        answer(async {
            let address = client_address().await;
            let (user, stamp) = self.services.login(&username, &password, &address).await.map_err(|e| match e {
                LoginError::Refused => AppError::invalid("password", e.to_string()),
                LoginError::Locked { .. } => AppError::Refused(e.to_string()),
                LoginError::Busy => AppError::Unavailable,
                LoginError::Internal(err) => ServiceError::Internal(err).into(),
            })?;
            let session = request_session().await?;
            session::sign_in(&session, stamp).await.map_err(ServiceError::Internal)?;
            Ok(me(&user))
        })
        .await
    }

    async fn logout(&self) -> Result<(), AppError> {
        answer(async {
            let session = request_session().await?;
            if let Some(user) = session::signed_in(&session, &self.services, &self.sessions).await? {
                self.services.record_logout(&user, &client_address().await).await?;
            }
            session::sign_out(&session).await.map_err(ServiceError::Internal)?;
            Ok(())
        })
        .await
    }

    async fn queue_page(&self, filter: QueueFilter, after: Option<Cursor>) -> Result<QueuePage, AppError> {
        answer(async {
            let user = self.user().await?;
            Ok(self.services.queue_page(&user.viewer(), &filter, after).await?)
        })
        .await
    }

    async fn queue_counts(&self) -> Result<QueueCounts, AppError> {
        answer(async {
            let user = self.user().await?;
            Ok(self.services.queue_counts(&user.viewer()).await?)
        })
        .await
    }

    async fn exception_detail(&self, id: i64) -> Result<ExceptionDetailView, AppError> {
        answer(async {
            let user = self.user().await?;
            let detail = self.services.exception_detail(&user.viewer(), ExceptionId::new(id)).await?;
            Ok(detail_view(detail)?)
        })
        .await
    }

    async fn act(&self, id: i64, seen: Option<i64>, action: TriageAction) -> Result<i64, AppError> {
        answer(async {
            let user = self.user().await?;
            let worker = user.worker().map_err(denied)?;
            Ok(self.services.act(&worker, ExceptionId::new(id), seen, &action).await.map_err(ServiceError::from)?)
        })
        .await
    }

    async fn assignees(&self) -> Result<Vec<AssigneeOption>, AppError> {
        answer(async {
            let user = self.user().await?;
            let worker = user.worker().map_err(denied)?;
            Ok(self
                .services
                .assignable_users(&worker)
                .await?
                .into_iter()
                .map(|a| AssigneeOption {
                    username: a.username,
                    display_name: a.display_name,
                    role: a.role,
                    queues: a.queues,
                })
                .collect())
        })
        .await
    }

    async fn bulk_preview(&self, target: BulkTarget) -> Result<i64, AppError> {
        answer(async {
            let user = self.user().await?;
            let worker = user.worker().map_err(denied)?;
            match target {
                BulkTarget::Selected { ids } => Ok(ids.len() as i64),
                BulkTarget::View { query } => {
                    let filter =
                        QueueFilter::parse_query(&query).map_err(|_| AppError::invalid("query", "not a view"))?;
                    let viewer = worker.user().viewer();
                    Ok(self.services.view_count(&viewer, &filter).await?)
                }
            }
        })
        .await
    }

    async fn start_bulk(&self, target: BulkTarget, action: TriageAction) -> Result<i64, AppError> {
        answer(async {
            let user = self.user().await?;
            let worker = user.worker().map_err(denied)?;
            let ids = match target {
                BulkTarget::Selected { ids } => ids,
                BulkTarget::View { query } => {
                    let filter =
                        QueueFilter::parse_query(&query).map_err(|_| AppError::invalid("query", "not a view"))?;
                    self.services.view_ids(&user.viewer(), &filter, crate::services::MAX_BULK + 1).await?
                }
            };
            Ok(self.services.start_bulk(&worker, &ids, &action).await?)
        })
        .await
    }

    async fn bulk_status(&self, job: i64) -> Result<BulkJobView, AppError> {
        answer(async {
            let user = self.user().await?;
            let status = self.services.bulk_status(&user, job).await?;
            Ok(BulkJobView {
                id: status.id,
                action: status.action,
                total: status.total,
                done: status.done,
                finished: status.finished,
                items: status
                    .items
                    .into_iter()
                    .map(|(exception_id, outcome, message)| BulkItemView { exception_id, outcome, message })
                    .collect(),
            })
        })
        .await
    }

    async fn list_views(&self) -> Result<Vec<SavedViewEntry>, AppError> {
        answer(async {
            let user = self.user().await?;
            Ok(self
                .services
                .list_views(&user)
                .await?
                .into_iter()
                .map(|v| SavedViewEntry { id: v.id, name: v.name, team: v.team, query: v.query, mine: v.mine })
                .collect())
        })
        .await
    }

    async fn save_view(&self, name: String, query: String, team: Option<String>) -> Result<i64, AppError> {
        answer(async {
            let user = self.user().await?;
            Ok(self.services.save_view(&user, &name, &query, team.as_deref()).await?)
        })
        .await
    }

    async fn delete_view(&self, id: i64) -> Result<(), AppError> {
        answer(async {
            let user = self.user().await?;
            Ok(self.services.delete_view(&user, id).await?)
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<UserEntry>, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.list_users(&admin).await?.into_iter().map(user_entry).collect())
        })
        .await
    }

    async fn create_user(&self, input: UserInput) -> Result<UserEntry, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            let new = NewUser {
                username: input.username,
                display_name: input.display_name,
                role: input.role,
                password: input.password,
                queues: input.queues,
            };
            Ok(user_entry(self.services.create_user(&admin, &new).await?))
        })
        .await
    }

    async fn update_user(&self, id: i64, input: UserInput) -> Result<UserEntry, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            let changes = UserChanges { display_name: input.display_name, role: input.role, queues: input.queues };
            Ok(user_entry(self.services.update_user(&admin, UserId(id), &changes).await?))
        })
        .await
    }

    async fn set_user_disabled(&self, id: i64, disabled: bool) -> Result<(), AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.set_user_disabled(&admin, UserId(id), disabled).await?)
        })
        .await
    }

    async fn reset_password(&self, id: i64, password: String) -> Result<(), AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.reset_password(&admin, UserId(id), &password).await?)
        })
        .await
    }

    async fn list_sources(&self) -> Result<Vec<SourceEntry>, AppError> {
        answer(async {
            let user = self.user().await?;
            user.admin().map_err(denied)?;
            Ok(self
                .services
                .list_sources()
                .await?
                .into_iter()
                .map(|s| SourceEntry {
                    name: s.name,
                    prefix: s.prefix,
                    rate_per_sec: s.rate_per_sec,
                    burst: s.burst,
                    signed: s.signed,
                    created_at: s.created_at,
                })
                .collect())
        })
        .await
    }

    async fn create_source(&self, input: SourceInput) -> Result<String, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            let settings = source_settings(input);
            Ok(self.services.create_source(&admin, &settings).await?.key)
        })
        .await
    }

    async fn update_source(&self, input: SourceInput) -> Result<(), AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            let settings = source_settings(input);
            Ok(self.services.update_source(&admin, &settings).await?)
        })
        .await
    }

    async fn rotate_source_key(&self, name: String, grace_hours: u32) -> Result<String, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            let grace = chrono::Duration::hours(i64::from(grace_hours));
            Ok(self.services.rotate_source_key(&admin, &name, grace).await?.key)
        })
        .await
    }

    async fn revoke_source_keys(&self, name: String) -> Result<u64, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.revoke_source_keys(&admin, &name).await?)
        })
        .await
    }

    async fn add_signing_secret(&self, name: String, replace: bool) -> Result<String, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.add_signing_secret(&admin, &name, replace).await?)
        })
        .await
    }

    async fn list_queues(&self) -> Result<(Vec<QueueEntry>, QueueChoices), AppError> {
        answer(async {
            self.user().await?;
            let (queues, policies, sites) = self.services.list_queues();
            let entries = queues
                .into_iter()
                .map(|q| QueueEntry {
                    calendar: format!("{}, {} working hours a week", q.time_zone, q.weekly_minutes / 60),
                    key: q.spec.key,
                    name: q.spec.name,
                    team: q.spec.team,
                    sla_policy: q.spec.sla_policy,
                    site: q.spec.site,
                })
                .collect();
            Ok((entries, QueueChoices { policies, sites }))
        })
        .await
    }

    async fn save_queue(&self, input: QueueInput) -> Result<(), AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self
                .services
                .save_queue(&admin, &input.key, &input.name, &input.team, &input.sla_policy, &input.site)
                .await?)
        })
        .await
    }

    async fn list_audit(&self, before: Option<i64>) -> Result<Vec<AuditEntryView>, AppError> {
        answer(async {
            let user = self.user().await?;
            let reader = user.audit_reader().map_err(denied)?;
            let rows = self.services.list_audit(&reader, before).await?;
            Ok(rows.into_iter().map(audit_view).collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn list_sites(&self) -> Result<Vec<SiteSpec>, AppError> {
        answer(async {
            self.user().await?.admin().map_err(denied)?;
            Ok(self.services.sites())
        })
        .await
    }

    async fn save_site(&self, site: SiteSpec) -> Result<(), AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.save_site(&admin, site).await?)
        })
        .await
    }

    async fn list_policies(&self) -> Result<Vec<SlaPolicySpec>, AppError> {
        answer(async {
            self.user().await?.admin().map_err(denied)?;
            Ok(self.services.policies())
        })
        .await
    }

    async fn save_policy(&self, policy: SlaPolicySpec) -> Result<(), AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.save_policy(&admin, policy).await?)
        })
        .await
    }

    async fn routing(&self) -> Result<(RuleSetSpec, RoutingChoices), AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            let (queues, _, _) = self.services.list_queues();
            let recent = self.services.recent_exception_events(&admin).await?;
            let choices = RoutingChoices {
                queues: queues.into_iter().map(|q| q.spec.key).collect(),
                recent_events: recent.into_iter().map(|(label, body)| RecentEvent { label, body }).collect(),
            };
            Ok((self.services.routing_spec(), choices))
        })
        .await
    }

    async fn dry_run(&self, rules: RuleSetSpec, event: String) -> Result<RouteDecision, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            let raw: serde_json::Value = serde_json::from_str(&event)
                .map_err(|e| AppError::invalid("event", format!("the event is not valid JSON: {e}")))?;
            Ok(self.services.dry_run(&admin, &rules, &raw)?)
        })
        .await
    }

    async fn routing_impact(&self, rules: RuleSetSpec) -> Result<Vec<MoveView>, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.routing_impact(&admin, &rules).await?.into_iter().map(|m| move_view(m, None)).collect())
        })
        .await
    }

    async fn save_routing(&self, rules: RuleSetSpec, reroute: bool) -> Result<Vec<MoveView>, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            let outcomes = self.services.save_routing(&admin, &rules, reroute).await?;
            Ok(outcomes.into_iter().map(|(m, o)| move_view(m, Some(o))).collect())
        })
        .await
    }

    async fn config_history(&self, kind: String, key: Option<String>) -> Result<Vec<ConfigVersionView>, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            let versions = self.services.config_history(&admin, &kind, key.as_deref()).await?;
            let mut seen = std::collections::HashSet::new();
            Ok(versions
                .into_iter()
                .map(|v| ConfigVersionView {
                    // Newest first: the first version of each key is the one in force.
                    current: seen.insert(v.key.clone()) && v.spec.is_some(),
                    id: v.id,
                    kind: v.kind,
                    key: v.key,
                    version: v.version,
                    actor: v.actor,
                    at: v.at,
                    spec: v.spec,
                })
                .collect())
        })
        .await
    }

    async fn restore_config(&self, version_id: i64) -> Result<(), AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.restore_config(&admin, version_id).await?)
        })
        .await
    }

    async fn list_connectors(&self) -> Result<Vec<ConnectorEntry>, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.connectors(&admin).await?.into_iter().map(connector_entry).collect())
        })
        .await
    }

    async fn save_connector(&self, connector: ConnectorSpec, secret: Option<String>) -> Result<(), AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.save_connector(&admin, &connector, secret.as_deref()).await?)
        })
        .await
    }

    async fn list_retry_policies(&self) -> Result<RetryPolicies, AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            let (policies, queue_policies) = self.services.retry_policies(&admin).await?;
            let (queues, _, _) = self.services.list_queues();
            Ok(RetryPolicies { policies, queue_policies, queues: queues.into_iter().map(|q| q.spec.key).collect() })
        })
        .await
    }

    async fn save_retry_policy(&self, policy: RetryPolicySpec) -> Result<(), AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.save_retry_policy(&admin, &policy).await?)
        })
        .await
    }

    async fn set_queue_retry_policy(&self, queue: String, policy: Option<String>) -> Result<(), AppError> {
        answer(async {
            let user = self.user().await?;
            let admin = user.admin().map_err(denied)?;
            Ok(self.services.set_queue_retry_policy(&admin, &queue, policy.as_deref()).await?)
        })
        .await
    }

    async fn replay(&self, id: i64, corrected: Option<serde_json::Value>) -> Result<i64, AppError> {
        answer(async {
            let user = self.user().await?;
            let worker = user.worker().map_err(denied)?;
            Ok(self
                .services
                .request_replay(&worker, ExceptionId::new(id), corrected)
                .await
                .map_err(ServiceError::from)?)
        })
        .await
    }

    async fn replay_status(&self, id: i64) -> Result<ReplayView, AppError> {
        answer(async {
            let user = self.user().await?;
            let status = self.services.replay_status(&user.viewer(), ExceptionId::new(id)).await?;
            Ok(replay_view(status)?)
        })
        .await
    }
}

fn connector_entry(c: ConnectorSummary) -> ConnectorEntry {
    ConnectorEntry { spec: c.spec, has_secret: c.has_secret, breaker: c.breaker }
}

fn replay_view(s: ReplayStatus) -> Result<ReplayView, ServiceError> {
    let time = |ms: Option<i64>| ms.map(from_millis).transpose();
    let current = s.corrected.clone().unwrap_or_else(|| s.original.clone());
    let pretty = |v: &serde_json::Value| match v {
        serde_json::Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    let jobs = s
        .jobs
        .into_iter()
        .map(|j| {
            let state: JobState = j.state.parse().map_err(|e| anyhow::anyhow!("stored job state: {e}"))?;
            Ok(ReplayJobView {
                id: j.id,
                next_attempt_at: if state == JobState::Pending { Some(from_millis(j.next_attempt_at)?) } else { None },
                state,
                attempts: j.attempts,
                requested_by: j.requested_by,
                automatic: j.automatic,
                message_version: j.payload_version,
                idempotency_key: j.idempotency_key,
                created_at: from_millis(j.created_at)?,
                finished_at: time(j.finished_at)?,
                last_error: j.last_error,
            })
        })
        .collect::<Result<_, ServiceError>>()?;
    let attempts = s
        .attempts
        .into_iter()
        .map(|a| {
            Ok(AttemptView {
                job: a.job_id,
                attempt: a.attempt,
                started_at: from_millis(a.started_at)?,
                latency_ms: a.latency_ms,
                outcome: a.outcome.parse().map_err(|e| anyhow::anyhow!("stored attempt outcome: {e}"))?,
                http_status: a.http_status,
                response_head: a.response_head,
            })
        })
        .collect::<Result<_, ServiceError>>()?;
    Ok(ReplayView {
        connector: s.connector.map(connector_entry),
        state: s.state,
        note: s.note,
        next_attempt_at: s.next_attempt_at,
        changes: crossdock::replay::json_diff(&s.original, &current),
        original: pretty(&s.original),
        current: pretty(&current),
        jobs,
        attempts,
    })
}

fn move_view(m: Move, outcome: Option<MoveOutcome>) -> MoveView {
    MoveView {
        exception_id: m.exception.get(),
        summary: m.summary,
        from: m.from,
        to: m.to,
        outcome: outcome.map(|o| match o {
            MoveOutcome::Moved => "moved".to_owned(),
            MoveOutcome::Skipped => "skipped".to_owned(),
        }),
    }
}

fn audit_view(r: crate::store::audit::AuditRow) -> Result<AuditEntryView, ServiceError> {
    Ok(AuditEntryView {
        id: r.id,
        at: from_millis(r.at)?,
        actor: r.actor,
        action: r.action,
        entity: r.entity,
        entity_id: r.entity_id,
        before: r.before,
        after: r.after,
        reason: r.reason,
    })
}

fn detail_view(d: crate::services::Detail) -> Result<ExceptionDetailView, ServiceError> {
    use crossdock::sla::SlaSnapshot;
    let r = d.row;
    let time = |ms: Option<i64>| ms.map(from_millis).transpose();
    let state = |s: Option<String>| -> anyhow::Result<_> {
        s.as_deref().map(str::parse).transpose().map_err(|e| anyhow::anyhow!("stored SLA state is invalid: {e}"))
    };
    let snapshot = |frozen: Option<String>, due: Option<i64>, risk: Option<i64>| -> anyhow::Result<SlaSnapshot> {
        Ok(SlaSnapshot { frozen: state(frozen)?, due_at: time(due)?, at_risk_at: time(risk)? })
    };
    let status: crossdock::Status = r.status.parse().map_err(|e| anyhow::anyhow!("stored status: {e}"))?;
    let raw: Option<serde_json::Value> = r.event_body.as_deref().and_then(|b| serde_json::from_str(b).ok());
    let event = raw.as_ref().and_then(|v| crossdock::event::parse(v).ok());
    let payload: serde_json::Value = serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null);
    let item = crossdock::ExceptionListItem {
        id: ExceptionId::new(r.id),
        kind: r.kind.parse().map_err(|e| anyhow::anyhow!("stored type: {e}"))?,
        status,
        severity: r.severity.parse().map_err(|e| anyhow::anyhow!("stored severity: {e}"))?,
        site: r.site,
        queue: r.queue,
        summary: r.summary,
        refs: serde_json::from_str(&r.refs).map_err(|e| anyhow::anyhow!("stored keys: {e}"))?,
        created_at: from_millis(r.created_at)?,
        updated_at: from_millis(r.updated_at)?,
        assignee: r.assignee,
        occurrences: r.occurrences,
        version: r.version,
        sla: snapshot(r.sla_frozen, r.sla_due_at, r.sla_risk_at)?,
        replay: r
            .replay_state
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("stored replay: {e}"))?,
    };
    Ok(ExceptionDetailView {
        item,
        acknowledge: snapshot(r.ack_frozen, r.ack_due_at, r.ack_risk_at)?,
        resolve: snapshot(r.resolve_frozen, r.resolve_due_at, r.resolve_risk_at)?,
        policy: d.policy,
        correlation_id: r.correlation_id,
        event,
        payload: serde_json::to_string_pretty(&payload).unwrap_or_default(),
        occurrences: d
            .occurrences
            .into_iter()
            .map(|(received_at, source, event_id)| OccurrenceView { received_at, source, event_id })
            .collect(),
        timeline: d.timeline.into_iter().map(audit_view).collect::<Result<_, _>>()?,
        allowed: status.allowed_actions(),
    })
}
