//! Recomputing an exception's SLA clocks after a status change or a move.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::Severity;
use crossdock::config::Configuration;
use crossdock::queue::QueueKey;
use crossdock::sla::{ClockKind, SlaPolicy, SlaPolicySpec, StatusChange};

use crate::store::exceptions::SlaColumns;
use crate::store::{self, Tx, from_millis};

/// The policy version an exception started under, as stored.
async fn policy(tx: &mut Tx<'_>, version_id: i64) -> anyhow::Result<Option<SlaPolicy>> {
    let Some(row) = store::config::by_id(&mut **tx, version_id).await? else { return Ok(None) };
    let Some(spec) = row.spec else { return Ok(None) };
    let spec: SlaPolicySpec = serde_json::from_str(&spec).context("stored SLA policy is unreadable")?;
    Ok(SlaPolicy::from_spec(&spec).ok())
}

/// Both clocks of an exception, read from its status history under the
/// policy it started with and the calendar of `queue`, as of `now`.
pub(crate) async fn clocks(
    tx: &mut Tx<'_>,
    config: &Configuration,
    exception: i64,
    severity: Severity,
    queue: &str,
    policy_version: Option<i64>,
    now: DateTime<Utc>,
) -> anyhow::Result<SlaColumns> {
    let Some(version) = policy_version else { return Ok(SlaColumns::default()) };
    let Some(policy) = policy(tx, version).await? else { return Ok(SlaColumns::default()) };
    let Some(queue) = QueueKey::parse(queue).ok().and_then(|k| config.queue(&k).cloned()) else {
        return Ok(SlaColumns::default());
    };
    let mut history = Vec::new();
    for (at, status) in store::exceptions::status_history(tx, exception).await? {
        history
            .push(StatusChange { at: from_millis(at)?, status: status.parse().context("stored status is invalid")? });
    }
    let read = |clock| policy.read(clock, severity, &queue.calendar, &history, now).snapshot();
    Ok(SlaColumns { ack: Some(read(ClockKind::Acknowledge)), resolve: Some(read(ClockKind::Resolve)) })
}
