//! Business transactions end to end.

use crossdock::lineage::Flow;
use crossdock_app::AppError;
use crossdock_app::dto::{
    LineageException, LineageView, MilestoneView, RawEventView, TransactionQuery, TransactionSummary,
};
use crossdock_app::ports::LineagePort;

use super::{ConsoleServices, answer};
use crate::services::{self, TransactionInfo};
use crate::store::from_millis;

fn summary(info: TransactionInfo) -> TransactionSummary {
    let t = info.transaction;
    let stages = t.flow.map_or(0, |f| f.stages().len());
    let stage = t.flow.and_then(|f: Flow| t.stage.checked_sub(1).and_then(|i| f.stages().get(i).copied()));
    TransactionSummary {
        id: t.id,
        name: t.name,
        flow: t.flow,
        stage,
        reached: t.stage,
        stages,
        site: t.site,
        supplier: t.supplier,
        customer: t.customer,
        last_milestone_at: t.last_milestone_at,
        quiet_hours: info.quiet_hours,
    }
}

#[async_trait::async_trait]
impl LineagePort for ConsoleServices {
    async fn transaction(&self, id: i64) -> Result<LineageView, AppError> {
        answer(async {
            let l = self.services.lineage(&self.as_viewer().await?, id).await?;
            Ok(LineageView {
                keys: l.keys.iter().map(ToString::to_string).collect(),
                progress: l.progress,
                overdue: l.overdue,
                milestones: l
                    .milestones
                    .into_iter()
                    .map(|m| MilestoneView {
                        event: m.event,
                        kind: m.kind,
                        at: m.at,
                        lane: m.lane,
                        source: m.source,
                        facts: m.facts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                    })
                    .collect(),
                // An exception of another queue shows only that it is there.
                exceptions: l
                    .exceptions
                    .into_iter()
                    .map(|e| LineageException {
                        stage: e.stage,
                        at: e.item.created_at,
                        item: e.visible.then_some(e.item),
                    })
                    .collect(),
                linked: l.linked.into_iter().map(summary).collect(),
                transaction: summary(l.transaction),
                zone: l.zone,
            })
        })
        .await
    }

    async fn transactions(&self, query: TransactionQuery) -> Result<Vec<TransactionSummary>, AppError> {
        answer(async {
            if query.stuck_hours.is_some_and(|h| h > 24 * 365) {
                return Err(AppError::invalid("stuck_hours", "at most a year of business hours"));
            }
            let after = match query.after.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
                Some(text) => Some(
                    crossdock::lineage::TransactionCursor::parse(text)
                        .ok_or_else(|| AppError::invalid("after", "not a page of this list"))?,
                ),
                None => None,
            };
            let query = services::TransactionQuery {
                flow: query.flow,
                site: query.site,
                supplier: query.supplier,
                customer: query.customer,
                stage: query.stage,
                stuck_hours: query.stuck_hours,
                after,
                kpi: match (query.kpi, query.from, query.to) {
                    (Some(kpi), Some(from), Some(to)) => Some((kpi, from, to)),
                    (Some(_), _, _) => {
                        return Err(AppError::invalid("from", "a KPI's transactions need a first and last day"));
                    }
                    _ => None,
                },
            };
            let listed = self.services.transactions(&self.as_viewer().await?, &query).await?;
            Ok(listed.into_iter().map(summary).collect())
        })
        .await
    }

    async fn find_transaction(&self, typed: String) -> Result<Option<i64>, AppError> {
        answer(async { Ok(self.services.find_transaction(&self.as_viewer().await?, &typed).await?) }).await
    }

    async fn milestone_event(&self, transaction: i64, event: i64) -> Result<RawEventView, AppError> {
        answer(async {
            let raw = self.services.milestone_event(&self.as_viewer().await?, transaction, event).await?;
            let e = raw.event;
            let body = serde_json::from_str::<serde_json::Value>(&e.body)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or(e.body);
            Ok(RawEventView {
                event_id: e.event_id,
                source: e.source,
                sender: e.sender,
                kind: e.kind,
                received_at: from_millis(e.received_at).map_err(|_| AppError::Internal)?,
                traceparent: raw.traceparent,
                body,
            })
        })
        .await
    }
}
