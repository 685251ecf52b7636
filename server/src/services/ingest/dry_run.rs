//! The dry run of ingest: what sending events would do, found by writing
//! them as a send does, in a database transaction that is then rolled back.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::{ExceptionId, Severity};
use serde_json::Value;

use super::source::AuthenticatedSource;
use super::{Checked, EventResult, IngestItem, WriteOutcome};
use crate::auth::Actor;
use crate::services::{ServiceError, Services};
use crate::store;

/// One event of a dry run: what its answer would be, and for an accepted
/// event what it would do.
#[derive(Debug, Clone, PartialEq)]
pub struct Tried {
    pub result: EventResult,
    pub forecast: Option<Forecast>,
}

/// What an accepted event would do.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// The business transaction it would be placed in, by name (e.g.
    /// `po:PO-10045`): the one its correlation id or business keys lead to.
    pub transaction: Option<String>,
    /// For an exception: where it would be filed.
    pub filing: Option<Filing>,
}

/// What an exception event would become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// A new exception (it has no number until it is sent).
    Opens,
    /// Another occurrence of this open exception.
    Joins(ExceptionId),
    /// Another occurrence of an exception an earlier event of the same
    /// request would open.
    JoinsEarlier,
}

/// Where an exception event would land, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Filing {
    pub grouping: Grouping,
    /// The queue, severity and assignee: routing's for a new exception; for
    /// an occurrence, those the exception it joins has now.
    pub queue: String,
    pub severity: Severity,
    pub assignee: Option<String>,
    /// The routing rule that chose the queue (its number and name), for a
    /// new exception; `None` when the fallback queue took it.
    pub rule: Option<(usize, String)>,
    /// The SLA policy that would time a new exception.
    pub sla_policy: Option<String>,
    /// A new exception's clocks; an occurrence's run already.
    pub acknowledge_due_at: Option<DateTime<Utc>>,
    pub resolve_due_at: Option<DateTime<Utc>>,
}

impl Services {
    /// Says what [`Services::ingest`] would do with the events of one
    /// request, and stores nothing: they are written in a transaction that
    /// is rolled back, so duplicates, grouping and transactions are found
    /// as a send finds them. The request counts against the source's
    /// allowance like any other; it takes the database's write lock while it
    /// runs, as a send does, one dry run at a time.
    #[tracing::instrument(skip_all, fields(source = %source.name, events = values.len()))]
    pub async fn ingest_dry_run(
        &self,
        source: &AuthenticatedSource,
        values: &[Value],
        received_at: DateTime<Utc>,
        charged: usize,
    ) -> Result<Vec<Tried>, ServiceError> {
        self.dry_run_by(source, values, received_at, charged, None).await
    }

    /// [`Services::ingest_dry_run`], the events written as `actor` when one
    /// sends on the source's behalf.
    pub(super) async fn dry_run_by(
        &self,
        source: &AuthenticatedSource,
        values: &[Value],
        received_at: DateTime<Utc>,
        charged: usize,
        actor: Option<Actor>,
    ) -> Result<Vec<Tried>, ServiceError> {
        let Checked { results, items, slots } = self.check(source, values, received_at, charged, actor)?;
        let mut tried: Vec<Option<Tried>> =
            results.into_iter().map(|r| r.map(|result| Tried { result, forecast: None })).collect();
        if items.is_empty() {
            return Ok(tried.into_iter().flatten().collect());
        }
        let refs: Vec<&IngestItem> = items.iter().collect();
        let _turn = self.dry_runs.acquire().await.context("the dry runs' turn")?;
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a dry run")?;
        let outcomes = store::ingest::write(&mut tx, &refs).await?;
        // What the writes lead to, read before the rollback: transactions by
        // name, and the open exceptions joined as they stand.
        let opened: Vec<ExceptionId> = outcomes
            .iter()
            .filter_map(|o| match o {
                WriteOutcome::Accepted { exception: Some(x), opened: true, .. } => Some(*x),
                _ => None,
            })
            .collect();
        let mut forecasts = Vec::with_capacity(outcomes.len());
        for (outcome, item) in outcomes.iter().zip(&items) {
            let WriteOutcome::Accepted { transaction, exception, opened: opens, .. } = *outcome else {
                forecasts.push(None);
                continue;
            };
            let transaction = match transaction {
                Some(t) => store::lineage::transaction_name(&mut tx, t).await?,
                None => None,
            };
            let grouping = match exception {
                _ if opens => Grouping::Opens,
                Some(x) if opened.contains(&x) => Grouping::JoinsEarlier,
                Some(x) => Grouping::Joins(x),
                None => Grouping::Opens,
            };
            let joined = match grouping {
                Grouping::Joins(x) => store::exceptions::placement(&mut tx, x).await?,
                _ => None,
            };
            forecasts.push(Some(Forecast { transaction, filing: filing(item, grouping, joined) }));
        }
        tx.rollback().await.context("Failed to roll a dry run back")?;
        for (((i, id), outcome), forecast) in slots.into_iter().zip(outcomes).zip(forecasts) {
            tried[i] = Some(match outcome {
                WriteOutcome::Accepted { opened, .. } => {
                    // Only an exception that is there already has a number.
                    let shown = match forecast.as_ref().and_then(|f| f.filing.as_ref()).map(|f| f.grouping) {
                        Some(Grouping::Joins(x)) => Some(x),
                        _ => None,
                    };
                    Tried { result: EventResult::Accepted { id, exception: shown, opened }, forecast }
                }
                WriteOutcome::Duplicate => Tried { result: EventResult::Duplicate { id }, forecast: None },
            });
        }
        Ok(tried.into_iter().flatten().collect())
    }
}

/// Where an exception event would land: routing's decision for a new one,
/// the joined exception's queue, severity and assignee for an occurrence.
fn filing(item: &IngestItem, grouping: Grouping, joined: Option<(String, Severity, Option<String>)>) -> Option<Filing> {
    let e = item.exception.as_ref()?;
    let routed = item.routed.as_ref();
    let new = grouping == Grouping::Opens;
    let (queue, severity, assignee) = joined.unwrap_or_else(|| (e.queue.clone(), e.severity, e.assignee.clone()));
    Some(Filing {
        grouping,
        queue,
        severity,
        assignee,
        rule: routed.filter(|_| new).and_then(|r| r.rule.clone()),
        sla_policy: routed.filter(|_| new).and_then(|r| r.sla_policy.clone()),
        acknowledge_due_at: e.sla.ack.as_ref().filter(|_| new).and_then(|s| s.due_at),
        resolve_due_at: e.sla.resolve.as_ref().filter(|_| new).and_then(|s| s.due_at),
    })
}
