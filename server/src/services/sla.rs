//! Recomputing an exception's SLA clocks after a status change or a move.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::config::Configuration;
use crossdock::queue::QueueKey;
use crossdock::sla::{ClockKind, SlaPolicy, SlaPolicySpec};
use crossdock::{ExceptionId, Severity};

use crate::store::exceptions::SlaColumns;
use crate::store::{self, Tx};

/// The policy version an exception started under, as stored.
async fn policy(tx: &mut Tx<'_>, version_id: i64) -> anyhow::Result<Option<SlaPolicy>> {
    let Some(version) = store::config::by_id(&mut **tx, version_id).await? else { return Ok(None) };
    let Some(spec) = version.spec else { return Ok(None) };
    let spec: SlaPolicySpec = serde_json::from_value(spec).context("stored SLA policy is unreadable")?;
    Ok(SlaPolicy::from_spec(&spec).ok())
}

/// What an exception's clocks are read from.
pub(super) struct Clocked<'a> {
    pub id: ExceptionId,
    pub severity: Severity,
    /// The queue whose calendar counts the business time.
    pub queue: &'a str,
    /// The SLA policy version it started under.
    pub policy_version: Option<i64>,
}

/// Both clocks of an exception, read from its status history under the
/// policy it started with and the calendar of its queue, as of `now`.
pub(super) async fn clocks(
    tx: &mut Tx<'_>,
    config: &Configuration,
    of: Clocked<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<SlaColumns> {
    let Some(version) = of.policy_version else { return Ok(SlaColumns::default()) };
    let Some(policy) = policy(tx, version).await? else { return Ok(SlaColumns::default()) };
    let Some(queue) = QueueKey::parse(of.queue).ok().and_then(|k| config.queue(&k).cloned()) else {
        return Ok(SlaColumns::default());
    };
    let history = store::exceptions::status_history(tx, of.id).await?;
    let read = |clock| policy.read(clock, of.severity, &queue.calendar, &history, now);
    let (ack, resolve) = (read(ClockKind::Acknowledge), read(ClockKind::Resolve));
    Ok(SlaColumns {
        ack: Some(ack.snapshot()),
        resolve: Some(resolve.snapshot()),
        ack_seconds: Some(ack.consumed_seconds),
        resolve_seconds: Some(resolve.consumed_seconds),
    })
}
