//! Delivering replays: a worker claims the job due first under a lease,
//! sends it through the connector's circuit breaker, records the attempt, and
//! resolves the exception, schedules the next attempt, or hands it back.

use std::time::Duration as StdDuration;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use crossdock::ExceptionId;
use crossdock::audit::{Actor, AuditAction, AuditEntry, Entity, SystemAgent};
use crossdock::lifecycle::{Action, Reason, ResolutionCode};
use crossdock::replay::{Admission, AttemptOutcome, Breaker, ConnectorSpec, JobState, ReplayState};
use crossdock::retry::{DeliveryOutcome, Verdict, next_wait_ms};
use crossdock::triage::{Change, Doer};
use secrecy::SecretString;

use super::super::Services;
use super::super::outbound::{Request, describe};
use crate::secrets::Purpose;
use crate::store::connectors::Connector;
use crate::store::leases::{Lease, Work};
use crate::store::replay::{Attempt, HeldReplay};
use crate::store::{self, Tx};

/// How long a worker holds a job beyond the delivery's own timeout.
const LEASE_MARGIN: StdDuration = StdDuration::from_secs(30);

/// How long a probe through a half-open circuit may take before another
/// may be sent: the delivery's timeout and the lease's margin.
fn probe_time(spec: &ConnectorSpec) -> StdDuration {
    StdDuration::from_millis(u64::from(spec.timeout_ms)) + LEASE_MARGIN
}

/// What one pass of a worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayStep {
    /// Delivered; the exception is resolved.
    Delivered { job: i64 },
    /// The attempt failed; another is scheduled.
    Retrying { job: i64, next: DateTime<Utc> },
    /// The attempts are used up or the target refused; back to the queue.
    Failed { job: i64 },
    /// The circuit is open; the job waits without spending an attempt.
    Deferred { job: i64, until: DateTime<Utc> },
    /// Another worker took the job over meanwhile; nothing was written.
    LostLease { job: i64 },
}

impl Services {
    /// A connector's secret, opened to be sent.
    pub(super) fn connector_secret(&self, connector: &Connector) -> anyhow::Result<Option<SecretString>> {
        connector
            .secret
            .as_ref()
            .map(|sealed| self.sealer.open(Purpose::ConnectorSecret, sealed))
            .transpose()
            .with_context(|| format!("the secret of connector {}", connector.spec.name))
    }

    /// Claims the replay due first, if any, and takes one step with it. The
    /// workers call this in a loop; tests drive it directly.
    pub async fn try_execute_replay(&self, now: DateTime<Utc>) -> anyhow::Result<Option<ReplayStep>> {
        let hold = StdDuration::from_millis(u64::from(ConnectorSpec::MAX_TIMEOUT_MS)) + LEASE_MARGIN;
        let lease = Lease::new(now, Duration::from_std(hold)?)?;
        let Some(id) = store::leases::claim(&self.pool, Work::Replays, now, &lease).await? else { return Ok(None) };
        let Some(held) = store::replay::held(&self.pool, id, lease).await? else {
            return Ok(Some(ReplayStep::LostLease { job: id }));
        };
        // A delivery that panics is counted as a failed attempt, so a job
        // that always panics still runs out of attempts.
        let (services, job) = (self.clone(), held.clone());
        match tokio::spawn(async move { services.step(job, now).await }).await {
            Ok(step) => step.map(Some),
            Err(crashed) if crashed.is_panic() => {
                tracing::error!(job = held.job.id, "a replay delivery panicked; counting it as a failed attempt");
                self.count_crash(&held).await.map(Some)
            }
            Err(crashed) => Err(crashed.into()),
        }
    }

    async fn step(&self, held: HeldReplay, now: DateTime<Utc>) -> anyhow::Result<ReplayStep> {
        let (job, lease) = (&held.job, &held.lease);
        let Some(connector) = store::connectors::connector(&self.pool, held.connector).await? else {
            let mut tx = store::begin(&self.pool).await?;
            store::replay::finish(&mut tx, job.id, lease, JobState::Failed, Some("the connector was removed"), now)
                .await?;
            let note = "replay failed: the connector was removed";
            store::replay::mark_exception(&mut tx, job.exception, Some(ReplayState::Failed), Some(note), None).await?;
            tx.commit().await?;
            return Ok(ReplayStep::Failed { job: job.id });
        };
        let spec = &connector.spec;
        let breaker = connector.breaker;
        let cooldown = Duration::seconds(i64::from(spec.breaker_cooldown_seconds));
        match breaker.admit(now, cooldown) {
            Admission::Go => {}
            Admission::Probe => {
                // The probe is out until its lease would end; a probe that
                // never comes back then lets another through.
                let probing = Breaker::HalfOpen { until: now + Duration::from_std(probe_time(spec))? };
                if !store::connectors::swap_breaker(&self.pool, connector.id, &breaker, &probing).await? {
                    return self.defer(&held, spec, now + Duration::seconds(1)).await;
                }
            }
            Admission::WaitUntil(until) => return self.defer(&held, spec, until).await,
        }

        let secret = match self.connector_secret(&connector) {
            Ok(secret) => secret,
            // Trying again cannot help: the job fails, with what to do.
            Err(err) => {
                tracing::error!(error = format!("{err:#}"), job = job.id, "a connector secret does not open");
                let what =
                    "the connector's secret does not open with this server's secret key: an admin enters it again";
                let mut tx = store::begin(&self.pool).await?;
                let step = self.give_up(&mut tx, &held, job.attempts, what, now).await?;
                tx.commit().await?;
                return Ok(step);
            }
        };
        let started = self.now();
        let answer = self.outbound.send(request(&held, &connector, secret.as_ref())).await;
        let outcome = answer.outcome;
        let attempt = job.attempts + 1;
        let verdict = held.policy.retry_on.verdict(outcome);
        let now = self.now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let recorded = store::replay::record_attempt(&mut tx, job.id, lease, &answer.attempt(attempt, started)).await?;
        if !recorded {
            return Ok(ReplayStep::LostLease { job: job.id });
        }
        metrics::counter!(crate::metrics::REPLAY_ATTEMPTS, "connector" => spec.name.clone(),
            "outcome" => AttemptOutcome::of(outcome).as_str())
        .increment(1);
        let what = describe(outcome, spec.timeout_ms);
        // The breaker counts failures of the target, not its refusals. It is
        // read again inside the transaction, so no other worker's update is
        // lost and none of ours is dropped.
        let target_failed = matches!(verdict, Verdict::Retry { .. })
            || matches!(outcome, DeliveryOutcome::Timeout | DeliveryOutcome::ConnectionError);
        if matches!(verdict, Verdict::Delivered) || target_failed {
            let threshold = spec.breaker_threshold;
            store::connectors::update_breaker(&mut tx, connector.id, |current| match verdict {
                Verdict::Delivered => current.succeeded(),
                _ => current.failed(now, threshold),
            })
            .await?;
        }
        let max_attempts = held.policy.schedule.max_attempts;
        let step = match verdict {
            Verdict::Delivered => {
                store::replay::finish(&mut tx, job.id, lease, JobState::Succeeded, None, now).await?;
                self.resolve_replayed(&mut tx, job.exception, &what, now).await?;
                ReplayStep::Delivered { job: job.id }
            }
            Verdict::Retry { min_delay_ms } if attempt < i64::from(max_attempts) => {
                self.retry_later(&mut tx, &held, attempt, min_delay_ms, &what, now).await?
            }
            _ => self.give_up(&mut tx, &held, attempt, &what, now).await?,
        };
        tx.commit().await.context("Failed to commit a replay attempt")?;
        Ok(step)
    }

    /// Records a delivery that panicked as a failed attempt, then retries
    /// or gives up like after any other failure.
    async fn count_crash(&self, held: &HeldReplay) -> anyhow::Result<ReplayStep> {
        let (job, lease) = (&held.job, &held.lease);
        let now = self.now();
        let attempt = job.attempts + 1;
        let what = "Crossdock failed while delivering; see the server log";
        let mut tx = store::begin(&self.pool).await?;
        let recorded = store::replay::record_attempt(
            &mut tx,
            job.id,
            lease,
            &Attempt {
                number: attempt,
                started: now,
                latency_ms: 0,
                outcome: AttemptOutcome::InternalError,
                http_status: None,
                response_head: None,
            },
        )
        .await?;
        if !recorded {
            return Ok(ReplayStep::LostLease { job: job.id });
        }
        let step = if attempt < i64::from(held.policy.schedule.max_attempts) {
            self.retry_later(&mut tx, held, attempt, None, what, now).await?
        } else {
            self.give_up(&mut tx, held, attempt, what, now).await?
        };
        tx.commit().await.context("Failed to commit a replay attempt")?;
        Ok(step)
    }

    /// Schedules the next attempt after the policy's delay, or later when
    /// the target asked for it; never beyond a day.
    async fn retry_later(
        &self,
        tx: &mut Tx<'_>,
        held: &HeldReplay,
        attempt: i64,
        asked_ms: Option<u64>,
        what: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ReplayStep> {
        let (job, schedule) = (&held.job, &held.policy.schedule);
        let number = u32::try_from(attempt + 1).unwrap_or(u32::MAX);
        let planned = schedule.delay_before(number, job.id.unsigned_abs()).unwrap_or(0);
        let wait = i64::try_from(next_wait_ms(planned, asked_ms)).unwrap_or(i64::MAX);
        let next = now.checked_add_signed(Duration::milliseconds(wait)).unwrap_or(now);
        if !store::replay::reschedule(tx, job.id, &held.lease, next, Some(what)).await? {
            return Ok(ReplayStep::LostLease { job: job.id });
        }
        let max_attempts = schedule.max_attempts;
        let note = format!("attempt {attempt} of {max_attempts}: {what}; next attempt {}", next.format("%H:%M:%S UTC"));
        store::replay::mark_exception(tx, job.exception, Some(ReplayState::Scheduled), Some(&note), Some(next)).await?;
        Ok(ReplayStep::Retrying { job: job.id, next })
    }

    /// Ends a job whose attempts are used up, or whose target refused it,
    /// and hands its exception back to the queue.
    async fn give_up(
        &self,
        tx: &mut Tx<'_>,
        held: &HeldReplay,
        attempt: i64,
        what: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ReplayStep> {
        let job = &held.job;
        if !store::replay::finish(tx, job.id, &held.lease, JobState::Failed, Some(what), now).await? {
            return Ok(ReplayStep::LostLease { job: job.id });
        }
        let note = format!("replay failed after {attempt} attempt(s): {what}");
        store::replay::mark_exception(tx, job.exception, Some(ReplayState::Failed), Some(&note), None).await?;
        let actor = Actor::System(SystemAgent::Replay);
        let id = job.exception.get().to_string();
        let entry = AuditEntry::new(now, actor, AuditAction::ReplayFailed, Entity::Exception, id)
            .after(serde_json::json!({"job": job.id, "attempts": attempt, "last": what}))
            .reason(note);
        store::audit::append(tx, &[entry]).await?;
        Ok(ReplayStep::Failed { job: job.id })
    }

    /// Puts a job back to wait for an open circuit, without using an attempt.
    async fn defer(&self, held: &HeldReplay, spec: &ConnectorSpec, until: DateTime<Utc>) -> anyhow::Result<ReplayStep> {
        let job = &held.job;
        let mut tx = store::begin(&self.pool).await?;
        if !store::replay::reschedule(&mut tx, job.id, &held.lease, until, None).await? {
            return Ok(ReplayStep::LostLease { job: job.id });
        }
        let note =
            format!("waiting: the {} connector's circuit is open until {}", spec.name, until.format("%H:%M:%S UTC"));
        store::replay::mark_exception(&mut tx, job.exception, Some(ReplayState::Scheduled), Some(&note), Some(until))
            .await?;
        tx.commit().await?;
        Ok(ReplayStep::Deferred { job: job.id, until })
    }

    /// Resolves an exception whose message went through, as a system action.
    async fn resolve_replayed(
        &self,
        tx: &mut Tx<'_>,
        exception: ExceptionId,
        what: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        store::replay::mark_exception(tx, exception, Some(ReplayState::Replayed), None, None).await?;
        let note = Reason::parse(what).ok();
        let resolve = Change::Status(Action::Resolve { code: ResolutionCode::Replayed, note });
        self.system_change(tx, exception, &resolve, Doer::System(SystemAgent::Replay), now)
            .await
            .map_err(|e| anyhow::anyhow!("cannot resolve a replayed exception: {e}"))
    }
}

/// The request that delivers a held replay through its connector.
fn request<'a>(held: &'a HeldReplay, connector: &'a Connector, secret: Option<&'a SecretString>) -> Request<'a> {
    let mut headers =
        vec![("content-type", held.content_type.as_str()), ("idempotency-key", held.job.idempotency_key.as_str())];
    if let Some(tp) = &held.traceparent {
        headers.push(("traceparent", tp));
    }
    through(connector, secret, headers, held.payload.as_bytes())
}

/// A request to a connector's target: its method, URL and timeout, the given
/// headers, then the connector's own headers and its (opened) secret.
pub(super) fn through<'a>(
    connector: &'a Connector,
    secret: Option<&'a SecretString>,
    mut headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
) -> Request<'a> {
    use secrecy::ExposeSecret;
    let spec = &connector.spec;
    headers.extend(spec.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    if let (Some(header), Some(secret)) = (&spec.auth_header, secret) {
        headers.push((header.as_str(), secret.expose_secret()));
    }
    Request {
        method: spec.method,
        url: &spec.url,
        timeout: StdDuration::from_millis(u64::from(spec.timeout_ms)),
        headers,
        body,
    }
}
