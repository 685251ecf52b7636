//! Bulk actions: one action over many exceptions (selected rows or a whole
//! view), run in the background item by item, each item with its own
//! transaction, audit record and honest outcome. A bulk action is a leased
//! row like a replay: a restart, or another instance, finishes it. A change
//! and the record that its item is done commit together, so an action taken
//! over after its worker died never changes an exception twice. A bulk
//! replay queues each replay in a transaction of its own: taken over between
//! the two, an item whose replay is under way is skipped, and one whose
//! replay already ended may be replayed again.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use crossdock::ExceptionId;
use crossdock::triage::{BulkItem, BulkJob, BulkOutcome, TriageAction};

use super::{ActError, Acted, ServiceError, Services, SessionStamp};
use crate::auth::{CurrentUser, Viewer, Worker};
use crate::store::leases::{Lease, Work};
use crate::store::{self};

/// The most exceptions one bulk action touches.
pub const MAX_BULK: u32 = 10_000;

/// How long a worker holds a bulk action between renewals.
const HOLD: Duration = Duration::seconds(30);
/// How many items one step runs before giving the action back, so that a
/// long action does not hold up a shutdown.
const SLICE: usize = 50;

/// Why an item was left to the worker that took the action over.
pub(super) const TAKEN_OVER: &str = "another worker took over this bulk action";

/// A bulk action held by this worker, whose items record themselves done in
/// the transaction of their change.
#[derive(Clone, Copy)]
pub(super) struct Held<'a> {
    job: i64,
    lease: &'a Lease,
}

impl Held<'_> {
    /// Records `exception` done in `tx`; `false` when the lease was lost.
    pub(super) async fn record_in(
        self,
        tx: &mut store::Tx<'_>,
        exception: ExceptionId,
        acted: &Acted,
    ) -> anyhow::Result<bool> {
        let item = BulkItem { exception, outcome: Some(BulkOutcome::Done), message: Some(done_message(acted)) };
        store::bulk::record_in(tx, self.job, self.lease, &item).await
    }
}

/// What a done item says.
fn done_message(acted: &Acted) -> String {
    match acted {
        Acted::Changed { what, .. } => what.clone(),
        Acted::ReplayQueued { job, .. } => format!("replay #{job} queued"),
        Acted::Noted { .. } => "comment added".to_owned(),
    }
}

impl Services {
    /// Queues a bulk action over `ids` as `worker`; answers at once with its
    /// id while a background worker runs it.
    #[tracing::instrument(skip_all, fields(items = ids.len(), action = action.name()))]
    pub async fn start_bulk(
        &self,
        worker: &Worker,
        ids: &[ExceptionId],
        action: &TriageAction,
    ) -> Result<i64, ServiceError> {
        if ids.is_empty() {
            return Err(ServiceError::invalid("selection", "nothing is selected"));
        }
        if ids.len() > MAX_BULK as usize {
            return Err(ServiceError::invalid("selection", format!("at most {MAX_BULK} exceptions at once")));
        }
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let job = store::bulk::create(&mut tx, worker.user().id.0, action, &ids, self.now()).await?;
        tx.commit().await.context("Failed to commit the bulk job")?;
        self.wake_workers();
        Ok(job)
    }

    /// Claims an unfinished bulk action that no worker holds and runs up to
    /// [`SLICE`] of its remaining items (finishing it when none remain); the
    /// id of the action it worked on, if any. The workers call this in a
    /// loop; tests drive it directly.
    pub async fn try_execute_bulk(&self, now: DateTime<Utc>) -> anyhow::Result<Option<i64>> {
        let mut lease = Lease::new(now, HOLD)?;
        let Some(id) = store::leases::claim(&self.pool, Work::BulkActions, now, &lease).await? else {
            return Ok(None);
        };
        let job = store::bulk::job(&self.pool, id).await?.context("a claimed bulk action is gone")?;
        let owner = self.job_owner(job.owner).await?;
        let pending = store::bulk::pending(&self.pool, id).await?;
        for exception in pending.iter().take(SLICE).copied() {
            let now = self.now();
            if now + HOLD / 2 > lease.until
                && !store::leases::renew(&self.pool, Work::BulkActions, id, &mut lease, now + HOLD).await?
            {
                tracing::warn!(job = id, "another worker took over a bulk action");
                return Ok(Some(id));
            }
            let item = self.bulk_item(owner.as_ref(), exception, &job.action, Held { job: id, lease: &lease }).await;
            // A change done was recorded with it.
            let recorded = item.outcome == Some(BulkOutcome::Done) && matches!(job.action, TriageAction::Change(_));
            if !recorded && !store::bulk::record(&self.pool, id, &lease, &item).await? {
                tracing::warn!(job = id, "another worker took over a bulk action");
                return Ok(Some(id));
            }
        }
        if pending.len() > SLICE {
            store::leases::release(&self.pool, Work::BulkActions, id, &lease).await?;
            return Ok(Some(id));
        }
        store::bulk::finish(&self.pool, id, &lease, self.now()).await?;
        Ok(Some(id))
    }

    /// The account that started a bulk action, as it is now: disabled or
    /// demoted since, the remaining items are refused.
    async fn job_owner(&self, user: i64) -> anyhow::Result<Option<CurrentUser>> {
        let Some(row) = store::users::by_id(&self.pool, crate::auth::UserId(user)).await? else { return Ok(None) };
        let stamp = SessionStamp { user: row.id, epoch: row.session_epoch };
        self.session_user(stamp).await.map_err(|e| anyhow::anyhow!("{e}"))
    }

    async fn bulk_item(
        &self,
        owner: Option<&CurrentUser>,
        exception: ExceptionId,
        action: &TriageAction,
        held: Held<'_>,
    ) -> BulkItem {
        let (outcome, message) = match owner.map(CurrentUser::worker) {
            None => (BulkOutcome::Refused, Some("the account that started this action is disabled".to_owned())),
            Some(Err(denied)) => (BulkOutcome::Refused, Some(denied.to_string())),
            Some(Ok(worker)) => match self.act_held(&worker, exception, action, held).await {
                Ok(acted) => (BulkOutcome::Done, Some(done_message(&acted))),
                Err(ActError::WrongState(m)) => (BulkOutcome::Skipped, Some(m)),
                Err(ActError::NotAllowed(m)) => (BulkOutcome::Refused, Some(m)),
                Err(ActError::Invalid { message, .. }) => (BulkOutcome::Skipped, Some(message)),
                Err(ActError::NotFound) => (BulkOutcome::Skipped, Some("no such exception".to_owned())),
                Err(ActError::Changed(m)) => (BulkOutcome::Failed, Some(m)),
                Err(ActError::Internal(err)) => {
                    tracing::error!(error = format!("{err:#}"), exception = exception.get(), "a bulk item failed");
                    (BulkOutcome::Failed, Some("an internal error; it has been logged".to_owned()))
                }
            },
        };
        BulkItem { exception, outcome: Some(outcome), message }
    }

    /// One item's action. A change commits together with its item's record;
    /// a replay is queued on its own (while one is under way another is
    /// refused, so a take-over does not queue a second).
    async fn act_held(
        &self,
        worker: &Worker,
        exception: ExceptionId,
        action: &TriageAction,
        held: Held<'_>,
    ) -> Result<Acted, ActError> {
        match action {
            TriageAction::Change(change) => {
                self.change_as_of(worker, exception, None, change, self.now(), Some(held)).await
            }
            TriageAction::Replay => self.act(worker, exception, None, action).await,
        }
    }

    /// A bulk action and its items; only whoever started it (or an admin)
    /// sees it.
    pub async fn bulk_status(&self, viewer: &Viewer, job: i64) -> Result<BulkJob, ServiceError> {
        let me = viewer.user();
        let row = store::bulk::job(&self.pool, job)
            .await?
            .filter(|r| r.owner == me.id.0 || me.admin().is_ok())
            .ok_or_else(|| ServiceError::NotFound(format!("bulk action {job}")))?;
        Ok(BulkJob {
            id: row.id,
            action: row.action.name().to_owned(),
            total: row.total,
            done: row.done,
            finished: row.finished,
            items: store::bulk::items(&self.pool, job).await?,
        })
    }
}
