//! Milestone-based detection: a durable sweep over the event log that
//! expects milestones after others, files an exception when one is overdue
//! (and resolves it when the milestone comes after all), and files the
//! contradictions it sees: a shipment dispatched twice with different data,
//! a receipt of more than was shipped.
//!
//! The sweep keeps its place in the event log and holds a lease, so it runs
//! on one instance at a time and survives restarts. What it finds is kept
//! before it is filed; each finding is an event of Crossdock's own source
//! with an id of its own, so filing it twice is answered `duplicate`.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use crossdock::audit::SystemAgent;
use crossdock::event::{Body, MilestoneKind};
use crossdock::lifecycle::{Action, ResolutionCode};
use crossdock::source::{Prefixes, SourceName};
use crossdock::triage::{Change, Doer};
use serde_json::{Value, json};

use super::ingest::source::AuthenticatedSource;
use super::{EventResult, Services};
use crate::store::expectations::NewMilestone;
use crate::store::{self, Tx};

/// The source Crossdock files its own findings as.
pub const SYSTEM_SOURCE: &str = "crossdock";
/// The `source` attribute of its findings.
const FINDINGS: &str = "crossdock/lineage";
/// Events read per transaction of the sweep.
const SLICE: u32 = 500;
/// Overdue expectations, findings and settlements handled per round.
const BATCH: u32 = 500;
/// How long the sweep holds its lease before another instance may take it.
const LEASE: i64 = 5 * 60;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub milestones: usize,
    pub overdue: usize,
    pub contradictions: usize,
    pub filed: usize,
    pub settled: usize,
}

fn finding(kind: &str, id: String, now: DateTime<Utc>, data: Value) -> Value {
    json!({"specversion": "1.0", "id": id, "source": FINDINGS, "type": kind,
           "time": now.to_rfc3339_opts(SecondsFormat::Secs, true), "data": data})
}

/// The refs of a transaction's name, for a finding's data.
fn refs_of(transaction: &str) -> Value {
    match crossdock::lineage::TransactionKey::parse(transaction) {
        Some(k) => json!({k.kind.as_str(): k.value}),
        None => json!({}),
    }
}

impl Services {
    /// Sweeps once, as of `now`: `None` when another instance holds the sweep.
    /// The background worker calls this every few seconds; tests drive it
    /// with their own clock.
    #[tracing::instrument(skip_all, err)]
    pub async fn sweep_lineage(&self, now: DateTime<Utc>) -> anyhow::Result<Option<SweepReport>> {
        let token = format!("sweep-{}", uuid_like()?);
        let Some(mut place) =
            store::expectations::claim_sweep(&self.pool, &token, now, now + Duration::seconds(LEASE)).await?
        else {
            return Ok(None);
        };
        let mut report = SweepReport::default();
        let outcome = self.sweep_with(&token, &mut place, now, &mut report).await;
        store::expectations::release_sweep(&self.pool, &token).await?;
        outcome.map(|()| Some(report))
    }

    async fn sweep_with(
        &self,
        token: &str,
        place: &mut i64,
        now: DateTime<Utc>,
        report: &mut SweepReport,
    ) -> anyhow::Result<()> {
        // 1. The milestones logged since the last sweep.
        loop {
            let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
            let (milestones, last) = store::expectations::milestones_after(&mut tx, *place, SLICE).await?;
            let Some(last) = last else { break };
            for m in &milestones {
                self.note_milestone(&mut tx, m, now, report).await?;
            }
            if !store::expectations::advance(&mut tx, token, last).await? {
                anyhow::bail!("another instance took the lineage sweep over");
            }
            tx.commit().await.context("Failed to commit the sweep")?;
            report.milestones += milestones.len();
            *place = last;
            store::let_writers_in().await;
        }
        // 2. Expectations whose time ran out.
        loop {
            let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
            let due = store::expectations::overdue(&mut tx, now, BATCH).await?;
            for x in &due {
                store::expectations::find(&mut tx, &overdue_event(x, now)?, Some(x.id)).await?;
                store::expectations::mark_overdue(&mut tx, x.id).await?;
            }
            tx.commit().await.context("Failed to commit overdue expectations")?;
            report.overdue += due.len();
            if due.len() < BATCH as usize {
                break;
            }
            store::let_writers_in().await;
        }
        // 3. File what was found; 4. settle what came after all.
        report.filed += self.file_findings(now).await?;
        report.settled += self.settle(now).await?;
        Ok(())
    }

    /// Starts the expectations a milestone starts, meets those it meets, and
    /// keeps the contradictions it shows.
    async fn note_milestone(
        &self,
        tx: &mut Tx<'_>,
        m: &NewMilestone,
        now: DateTime<Utc>,
        report: &mut SweepReport,
    ) -> anyhow::Result<()> {
        let config = self.configuration();
        let calendar = m.site.as_ref().and_then(|s| config.sites.get(s)).map(|(_, c)| c);
        // What this milestone makes expected (unless it came already, in time).
        for rule in config.expectations.after(m.kind) {
            let Some(due) = rule.due(m.time, calendar) else { continue };
            let came = store::expectations::milestone_time(tx, m.transaction, rule.expect).await?;
            if came.is_some_and(|t| t <= due) {
                continue;
            }
            let id = store::expectations::expect(tx, m.transaction, rule.after, rule.expect, m.time, due).await?;
            if let (Some(id), Some(t)) = (id, came) {
                // Arrived before its cause was logged, but late all the same.
                self.late(tx, id, t, now).await?;
                report.overdue += 1;
            }
        }
        // What this milestone was expected for: met in time, or late.
        if let Some((id, due)) = store::expectations::open_for(tx, m.transaction, m.kind).await? {
            if m.time > due {
                self.late(tx, id, m.time, now).await?;
                report.overdue += 1;
            } else {
                store::expectations::arrived(tx, id, m.time, false).await?;
            }
        }
        // Only a dispatch or a receipt can contradict what came before.
        if !matches!(m.kind, MilestoneKind::ShipmentDispatched | MilestoneKind::ReceiptPosted) {
            return Ok(());
        }
        let event = serde_json::from_str(&m.body).ok().and_then(|v| crossdock::event::parse_stored(&v).ok());
        let Some(event) = event else { return Ok(()) };
        let found = match &event.data.body {
            Body::ShipmentDispatched { shipment, carrier, tracking, orders } => {
                let earlier = store::expectations::earlier_dispatch(tx, shipment, m.event).await?;
                earlier.and_then(|(first_id, first_body)| {
                    let first =
                        serde_json::from_str(&first_body).ok().and_then(|v| crossdock::event::parse_stored(&v).ok())?;
                    let Body::ShipmentDispatched { carrier: c0, tracking: t0, orders: o0, .. } = &first.data.body
                    else {
                        return None;
                    };
                    (c0 != carrier || t0 != tracking || o0 != orders).then(|| {
                        let data = json!({
                            "site": event.data.site, "refs": {"shipment": shipment},
                            "original_id": first_id, "duplicate_id": event.id, "entity": "shipment",
                            "summary": format!(
                                "{shipment} dispatched twice: {c0} {t0}, then {carrier} {tracking}"
                            ),
                        });
                        vec![finding("exception.duplicate_event", format!("dispatch-{}", m.event), now, data)]
                    })
                })
            }
            Body::ReceiptPosted { receipt, lines } => {
                let shipped = store::expectations::shipped_by_item(tx, m.transaction, m.event).await?;
                let po = event.business_refs().get(crossdock::RefKind::Po).map(str::to_owned);
                let mut received: BTreeMap<&str, (u32, f64)> = BTreeMap::new();
                for l in lines {
                    let entry = received.entry(l.item.as_str()).or_insert((l.line, 0.0));
                    entry.1 += l.qty_received;
                }
                let over: Vec<Value> = received
                    .into_iter()
                    .filter_map(|(item, (line, got))| {
                        let sent = *shipped.get(item)?;
                        let po = po.clone()?;
                        // Sums of decimal quantities: a rounding error is not a receipt.
                        (got > sent + 1e-9 * sent.abs().max(1.0)).then(|| {
                            let data = json!({
                                "site": event.data.site, "refs": {"po": po, "receipt": receipt},
                                "po": po, "line": line, "item": item, "expected_qty": sent, "received_qty": got,
                                "summary": format!(
                                    "{receipt}: {} of {item} received, {} shipped",
                                    crossdock::summary::qty(got),
                                    crossdock::summary::qty(sent)
                                ),
                            });
                            finding("exception.partial_receipt", format!("over-{}-{line}", m.event), now, data)
                        })
                    })
                    .collect();
                (!over.is_empty()).then_some(over)
            }
            _ => None,
        };
        for f in found.unwrap_or_default() {
            store::expectations::find(tx, &f, None).await?;
            report.contradictions += 1;
        }
        Ok(())
    }

    /// An expected milestone that came, but late: its exception is filed and
    /// then settled, so the lateness stays on the transaction's record.
    async fn late(&self, tx: &mut Tx<'_>, id: i64, came: DateTime<Utc>, now: DateTime<Utc>) -> anyhow::Result<()> {
        let overdue_before = store::expectations::filed_for(tx, id).await?;
        if !overdue_before && let Some(x) = store::expectations::by_id(tx, id).await? {
            store::expectations::find(tx, &overdue_event(&x, now)?, Some(id)).await?;
        }
        store::expectations::arrived(tx, id, came, true).await
    }

    /// Crossdock's own source, as ingest takes it.
    async fn system_source(&self) -> anyhow::Result<AuthenticatedSource> {
        let stored = store::sources::by_name(&self.pool, SYSTEM_SOURCE)
            .await?
            .context("Crossdock's own source is missing from the database")?;
        Ok(AuthenticatedSource {
            id: stored.id,
            name: SourceName::parse(SYSTEM_SOURCE).map_err(|e| anyhow::anyhow!(e))?,
            prefixes: Prefixes::parse_list(SYSTEM_SOURCE).map_err(|e| anyhow::anyhow!(e))?,
            rate_per_sec: stored.rate_per_sec,
            burst: stored.burst,
            signs: false,
            secrets: Vec::new(),
        })
    }

    /// Files the findings kept, through ingest like any event.
    async fn file_findings(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let source = self.system_source().await?;
        let mut filed = 0;
        loop {
            let findings = store::expectations::unfiled(&self.pool, BATCH).await?;
            // Filed together, as one batch of events.
            let events = findings
                .iter()
                .map(|(_, event, _)| serde_json::from_str::<Value>(event).context("a kept finding is unreadable"))
                .collect::<anyhow::Result<Vec<Value>>>()?;
            let results = self.ingest(&source, &events, now, 0).await?;
            anyhow::ensure!(results.len() == findings.len(), "ingest answered for another number of findings");
            for ((id, _, expectation), result) in findings.iter().zip(&results) {
                let exception = match result {
                    EventResult::Accepted { exception, .. } => *exception,
                    EventResult::Duplicate { id } => store::expectations::exception_of_finding(&self.pool, id).await?,
                    EventResult::Rejected { problems, .. } => {
                        tracing::error!(?problems, "a finding of the lineage sweep was refused");
                        None
                    }
                };
                store::expectations::filed(&self.pool, *id, *expectation, exception, now).await?;
                filed += 1;
            }
            if findings.len() < BATCH as usize {
                return Ok(filed);
            }
        }
    }

    /// Resolves the exceptions of overdue milestones that came after all.
    async fn settle(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let mut settled = 0;
        loop {
            let due = store::expectations::to_settle(&self.pool, BATCH).await?;
            for (id, exception, expect) in &due {
                let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
                let note = crossdock::lifecycle::Reason::parse(&format!("{expect} arrived")).ok();
                let resolve = Change::Status(Action::Resolve { code: ResolutionCode::MilestoneArrived, note });
                // One already closed by a person is left as it is.
                match self.system_change(&mut tx, *exception, &resolve, Doer::System(SystemAgent::Lineage), now).await {
                    Ok(()) => {}
                    Err(super::ActError::Internal(err)) => return Err(err),
                    Err(other) => {
                        tracing::info!(exception = exception.get(), reason = %other, "an overdue milestone's exception stays as it is");
                    }
                }
                store::expectations::settle(&mut tx, *id).await?;
                tx.commit().await.context("Failed to commit a settlement")?;
                settled += 1;
            }
            if due.len() < BATCH as usize {
                return Ok(settled);
            }
        }
    }
}

/// The exception event of an overdue expectation.
fn overdue_event(x: &store::expectations::Overdue, now: DateTime<Utc>) -> anyhow::Result<Value> {
    let after: MilestoneKind = x.after.parse().context("a stored expectation names no milestone")?;
    let expected: MilestoneKind = x.expect.parse().context("a stored expectation names no milestone")?;
    let due_at = store::from_millis(x.due_at)?;
    let data = json!({
        "site": x.site, "refs": refs_of(&x.name), "transaction": x.name,
        "after": after.as_str(), "expected": expected.as_str(),
        "due_at": due_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    });
    let mut event = finding("exception.milestone_overdue", format!("overdue-{}", x.id), now, data);
    // A transaction a sender named is found by its name, not by refs.
    if crossdock::lineage::TransactionKey::parse(&x.name).is_none() {
        event["correlationid"] = json!(x.name);
    }
    Ok(event)
}

/// A random token for a lease.
fn uuid_like() -> anyhow::Result<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the system random source failed: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
