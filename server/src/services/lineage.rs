//! Lineage: business transactions end to end, across systems.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use crossdock::ExceptionListItem;
use crossdock::event::{EventType, MilestoneKind};
use crossdock::lineage::{Facts, Flow, Progress, TransactionKey, key_facts, stage_number, stage_of_exception};

use super::{ServiceError, Services};
use crate::auth::Viewer;
use crate::store::lineage::{LoggedEvent, Transaction, TransactionFilter};
use crate::store::{self, Pool, from_millis};

/// Events placed per transaction when catching up.
const BACKFILL_SLICE: i64 = 500;

/// Places the events logged before lineage existed (once, at the first start
/// after the upgrade), a slice at a time.
pub(super) async fn backfill(pool: &Pool) -> anyhow::Result<()> {
    let up_to = store::lineage::backfill_up_to(pool).await?;
    if up_to == 0 {
        return Ok(());
    }
    let mut after = 0i64;
    let mut placed = 0usize;
    loop {
        let rows = store::lineage::events_to_place(pool, after, up_to, BACKFILL_SLICE).await?;
        let Some((last, _)) = rows.last() else { break };
        after = *last;
        // An event stored before a rule of the contract tightened may no
        // longer parse: it keeps no transaction, as any keyless event.
        let facts: Vec<(i64, Facts)> = rows
            .iter()
            .filter_map(|(id, body)| {
                let value = serde_json::from_str(body).ok()?;
                Some((*id, Facts::of(&crossdock::event::parse_stored(&value).ok()?)))
            })
            .collect();
        let refs: Vec<(i64, &Facts)> = facts.iter().map(|(id, f)| (*id, f)).collect();
        let mut tx = store::begin(pool).await.context("Failed to begin a transaction")?;
        placed += store::lineage::place_logged_events(&mut tx, &refs, Utc::now()).await?;
        tx.commit().await.context("Failed to commit placed events")?;
        store::let_writers_in().await;
    }
    store::lineage::finish_backfill(pool).await?;
    tracing::info!(events = placed, "placed the events logged before lineage in their transactions");
    Ok(())
}

/// A transaction with how long it has been quiet.
#[derive(Debug, Clone)]
pub struct TransactionInfo {
    pub transaction: Transaction,
    /// Business hours since its last milestone, on its site's calendar.
    pub quiet_hours: Option<i64>,
}

/// One milestone, read for people.
#[derive(Debug, Clone)]
pub struct Milestone {
    pub event: i64,
    pub kind: MilestoneKind,
    pub at: DateTime<Utc>,
    pub lane: String,
    pub source: String,
    pub facts: Vec<(&'static str, String)>,
}

/// An exception of a transaction, and whether the viewer may see it.
#[derive(Debug, Clone)]
pub struct OnLineage {
    pub stage: Option<MilestoneKind>,
    pub item: ExceptionListItem,
    pub visible: bool,
}

/// A transaction end to end.
#[derive(Debug, Clone)]
pub struct Lineage {
    pub transaction: TransactionInfo,
    pub keys: Vec<TransactionKey>,
    pub progress: Option<Progress>,
    pub milestones: Vec<Milestone>,
    pub exceptions: Vec<OnLineage>,
    pub linked: Vec<TransactionInfo>,
    pub zone: Option<String>,
    /// Stages whose milestone is overdue.
    pub overdue: Vec<MilestoneKind>,
}

/// A milestone as received.
#[derive(Debug, Clone)]
pub struct RawMilestone {
    pub event: LoggedEvent,
    pub traceparent: Option<String>,
}

/// A transaction's stages in brief.
#[derive(Debug, Clone)]
pub struct Strip {
    pub id: i64,
    pub name: String,
    pub progress: Option<Progress>,
}

/// Which transactions to list.
#[derive(Debug, Clone, Default)]
pub struct TransactionQuery {
    pub flow: Option<Flow>,
    pub site: Option<String>,
    pub supplier: Option<String>,
    pub customer: Option<String>,
    pub stage: Option<MilestoneKind>,
    pub stuck_hours: Option<u32>,
    /// The page after this row.
    pub after: Option<crossdock::lineage::TransactionCursor>,
    /// Only those a KPI counted at the site from the first day through the
    /// last (in the site's zone).
    pub kpi: Option<(crossdock::kpi::Kpi, chrono::NaiveDate, chrono::NaiveDate)>,
}

fn milestone_of(event: &LoggedEvent) -> Option<Milestone> {
    let MilestoneOrNot::Milestone(kind) = event.kind.parse::<EventType>().map(MilestoneOrNot::of).ok()? else {
        return None;
    };
    let parsed = serde_json::from_str(&event.body).ok().and_then(|v| crossdock::event::parse_stored(&v).ok());
    Some(Milestone {
        event: event.id,
        kind,
        at: from_millis(event.time).ok()?,
        lane: event.sender.clone(),
        source: event.source.clone(),
        facts: parsed.as_ref().map(key_facts).unwrap_or_default(),
    })
}

enum MilestoneOrNot {
    Milestone(MilestoneKind),
    Exception,
}

impl MilestoneOrNot {
    fn of(t: EventType) -> Self {
        match t {
            EventType::Milestone(m) => Self::Milestone(m),
            EventType::Exception(_) => Self::Exception,
        }
    }
}

impl Services {
    fn info(&self, transaction: Transaction, now: DateTime<Utc>) -> TransactionInfo {
        let config = self.configuration();
        let calendar = transaction.site.as_ref().and_then(|s| config.sites.get(s)).map(|(_, c)| c);
        let quiet_hours = transaction.last_milestone_at.map(|since| match calendar {
            Some(c) => c.minutes_between(since, now) / 60,
            None => (now - since).num_hours(),
        });
        TransactionInfo { transaction, quiet_hours }
    }

    /// A transaction end to end: its milestones for anyone signed in, its
    /// exceptions in full only where the viewer may see them.
    pub async fn lineage(&self, viewer: &Viewer, id: i64) -> Result<Lineage, ServiceError> {
        let transaction = store::lineage::transaction(&self.pool, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("transaction {id}")))?;
        let now = self.now();
        let milestones: Vec<Milestone> =
            store::lineage::milestones_of(&self.pool, id).await?.iter().filter_map(milestone_of).collect();
        let seen: Vec<(MilestoneKind, DateTime<Utc>)> = milestones.iter().map(|m| (m.kind, m.at)).collect();
        let flow = transaction.flow;
        let progress = flow.map(|f| Progress::of(f, seen.iter().map(|(k, _)| *k)));
        let exceptions = store::lineage::exceptions_of(&self.pool, id)
            .await?
            .into_iter()
            .map(|item| OnLineage {
                stage: flow.and_then(|f| stage_of_exception(item.kind, f, item.created_at, &seen)),
                visible: viewer.scope().includes(&item.queue),
                item,
            })
            .collect();
        let config = self.configuration();
        let zone =
            transaction.site.as_ref().and_then(|s| config.sites.get(s)).map(|(_, c)| c.time_zone().name().to_owned());
        let linked = store::lineage::linked(&self.pool, id).await?.into_iter().map(|t| self.info(t, now)).collect();
        Ok(Lineage {
            overdue: store::expectations::overdue_of(&self.pool, id).await?,
            keys: store::lineage::keys_of(&self.pool, id).await?,
            transaction: self.info(transaction, now),
            progress,
            milestones,
            exceptions,
            linked,
            zone,
        })
    }

    /// Transactions, the longest quiet first; `stuck_hours` keeps those
    /// without a milestone for longer, in their site's business hours.
    pub async fn transactions(
        &self,
        _viewer: &Viewer,
        query: &TransactionQuery,
    ) -> Result<Vec<TransactionInfo>, ServiceError> {
        const SHOWN: usize = crossdock::lineage::TransactionCursor::PAGE;
        // "Stuck" counts business hours, which pass no faster than
        // wall-clock ones: the store selects by wall-clock time, and rows
        // are read a slice at a time until a page passes the finer test.
        const SLICE: u32 = 100;
        const MOST_SLICES: usize = 20;
        let now = self.now();
        for (field, value) in [("site", &query.site), ("supplier", &query.supplier), ("customer", &query.customer)] {
            if value.as_deref().is_some_and(|v| !crossdock::text::is_one_line(v)) {
                return Err(ServiceError::invalid(field, "must not contain control characters"));
            }
        }
        let text = |v: &Option<String>| v.as_ref().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let mut filter = TransactionFilter {
            flow: query.flow.or_else(|| query.stage.and_then(Flow::of_milestone)),
            site: text(&query.site),
            supplier: text(&query.supplier),
            customer: text(&query.customer),
            stage: query.stage.and_then(stage_number).map(|(_, n)| n),
            quiet_since: query.stuck_hours.map(|h| now - Duration::hours(i64::from(h))),
            ids: None,
            after: query.after,
            limit: if query.stuck_hours.is_some() { SLICE } else { SHOWN as u32 },
        };
        if let Some((kpi, from, to)) = query.kpi {
            let site = filter
                .site
                .take()
                .ok_or_else(|| ServiceError::invalid("site", "a KPI's transactions are of one site"))?;
            filter.ids = Some(self.transactions_behind(_viewer, kpi, &site, from, to).await?);
        }
        let mut shown = Vec::new();
        for _ in 0..MOST_SLICES {
            let listed = store::lineage::list(&self.pool, &filter).await?;
            let complete = listed.len() < filter.limit as usize;
            filter.after = listed.last().map(|t| crossdock::lineage::TransactionCursor {
                at: t.last_milestone_at.map(|at| at.timestamp_millis()),
                id: t.id,
            });
            shown.extend(
                listed
                    .into_iter()
                    .map(|t| self.info(t, now))
                    .filter(|t| query.stuck_hours.is_none_or(|h| t.quiet_hours.is_some_and(|q| q > i64::from(h)))),
            );
            if complete || shown.len() >= SHOWN || query.stuck_hours.is_none() {
                break;
            }
        }
        shown.truncate(SHOWN);
        Ok(shown)
    }

    /// The transaction a typed key names.
    pub async fn find_transaction(&self, _viewer: &Viewer, typed: &str) -> Result<Option<i64>, ServiceError> {
        if typed.trim().is_empty() || typed.len() > 300 {
            return Ok(None);
        }
        Ok(store::lineage::find(&self.pool, typed).await?)
    }

    /// One milestone of a transaction, as received.
    pub async fn milestone_event(
        &self,
        _viewer: &Viewer,
        transaction: i64,
        event: i64,
    ) -> Result<RawMilestone, ServiceError> {
        let event = store::lineage::milestone(&self.pool, transaction, event)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("milestone {event}")))?;
        let traceparent = serde_json::from_str::<serde_json::Value>(&event.body)
            .ok()
            .and_then(|v| v.get("traceparent").and_then(|t| t.as_str()).map(str::to_owned));
        Ok(RawMilestone { event, traceparent })
    }

    /// The transaction of an exception, in brief.
    pub(super) async fn strip_of(&self, exception: crossdock::ExceptionId) -> anyhow::Result<Option<Strip>> {
        let Some(id) = store::lineage::of_exception(&self.pool, exception).await? else { return Ok(None) };
        let Some(transaction) = store::lineage::transaction(&self.pool, id).await? else { return Ok(None) };
        let kinds: Vec<MilestoneKind> = store::lineage::milestones_of(&self.pool, id)
            .await?
            .iter()
            .filter_map(milestone_of)
            .map(|m| m.kind)
            .collect();
        Ok(Some(Strip { id, name: transaction.name, progress: transaction.flow.map(|f| Progress::of(f, kinds)) }))
    }
}
