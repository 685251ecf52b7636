//! Bulk actions: one action over many exceptions (selected rows or a whole
//! view), run in the background item by item, each item with its own
//! transaction, audit record and honest outcome. A restart resumes them.

use anyhow::Context;
use chrono::Utc;
use crossdock::ExceptionId;
use crossdock::triage::TriageAction;

use super::{ActError, ServiceError, Services, SessionStamp};
use crate::auth::{CurrentUser, UserId, Worker};
use crate::store::{self};

/// The most exceptions one bulk action touches.
pub const MAX_BULK: u32 = 10_000;

/// What became of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemOutcome {
    Done,
    /// Its status does not allow the action.
    Skipped,
    /// The actor's role or queues do not allow it.
    Refused,
    Failed,
}

impl ItemOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemOutcome::Done => "done",
            ItemOutcome::Skipped => "skipped",
            ItemOutcome::Refused => "refused",
            ItemOutcome::Failed => "failed",
        }
    }
}

/// A bulk job as its owner sees it.
#[derive(Debug, Clone)]
pub struct BulkStatus {
    pub id: i64,
    pub action: String,
    pub total: i64,
    pub done: i64,
    pub finished: bool,
    pub items: Vec<(i64, Option<String>, Option<String>)>,
}

impl Services {
    /// Starts a bulk action over `ids` as `worker`; answers at once with the
    /// job's id while it runs in the background.
    #[tracing::instrument(skip_all, fields(items = ids.len(), action = action.name()))]
    pub async fn start_bulk(
        &self,
        worker: &Worker<'_>,
        ids: &[i64],
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
        let encoded = serde_json::to_string(action).context("Failed to encode the action")?;
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let job = store::bulk::create(&mut tx, worker.user().id.0, &encoded, &ids, Utc::now()).await?;
        tx.commit().await.context("Failed to commit the bulk job")?;
        self.spawn_bulk(job);
        Ok(job)
    }

    fn spawn_bulk(&self, job: i64) {
        let services = self.clone();
        tokio::spawn(async move {
            if let Err(err) = services.run_bulk(job).await {
                tracing::error!(error = format!("{err:#}"), job, "a bulk job stopped");
            }
        });
    }

    /// Resumes the bulk jobs a previous run of the server left unfinished.
    pub async fn resume_bulk_jobs(&self) -> anyhow::Result<()> {
        for job in store::bulk::unfinished(&self.pool).await? {
            self.spawn_bulk(job);
        }
        Ok(())
    }

    async fn job_owner(&self, user: i64) -> anyhow::Result<Option<CurrentUser>> {
        // Only the owner's account as it is now: disabled or demoted since,
        // the remaining items are refused.
        let Some(row) = store::users::by_id(&self.pool, user).await? else { return Ok(None) };
        let stamp = SessionStamp { user: UserId(row.id), epoch: row.session_epoch };
        self.session_user(stamp).await.map_err(|e| anyhow::anyhow!("{e}"))
    }

    async fn run_bulk(&self, job: i64) -> anyhow::Result<()> {
        let row = store::bulk::job(&self.pool, job).await?.context("the bulk job is gone")?;
        let action: TriageAction = serde_json::from_str(&row.action).context("stored bulk action is unreadable")?;
        let owner = self.job_owner(row.user_id).await?;
        for exception in store::bulk::pending(&self.pool, job).await? {
            let (outcome, message) = match owner.as_ref().map(|u| u.worker()) {
                None => (ItemOutcome::Refused, Some("the account that started this action is disabled".to_owned())),
                Some(Err(denied)) => (ItemOutcome::Refused, Some(denied.to_string())),
                Some(Ok(worker)) => match self.act(&worker, ExceptionId::new(exception), None, &action).await {
                    Ok(_) => (ItemOutcome::Done, None),
                    Err(ActError::WrongState(m)) => (ItemOutcome::Skipped, Some(m)),
                    Err(ActError::NotAllowed(m)) => (ItemOutcome::Refused, Some(m)),
                    Err(ActError::Invalid { message, .. }) => (ItemOutcome::Skipped, Some(message)),
                    Err(ActError::NotFound) => (ItemOutcome::Skipped, Some("no such exception".to_owned())),
                    Err(ActError::Changed(m)) => (ItemOutcome::Failed, Some(m)),
                    Err(ActError::Internal(err)) => {
                        tracing::error!(error = format!("{err:#}"), job, exception, "a bulk item failed");
                        (ItemOutcome::Failed, Some("an internal error; it has been logged".to_owned()))
                    }
                },
            };
            store::bulk::record(&self.pool, job, exception, outcome.as_str(), message.as_deref()).await?;
        }
        store::bulk::finish(&self.pool, job, Utc::now()).await?;
        Ok(())
    }

    /// A bulk job and its items; only its owner (or an admin) sees it.
    pub async fn bulk_status(&self, user: &CurrentUser, job: i64) -> Result<BulkStatus, ServiceError> {
        let row = store::bulk::job(&self.pool, job)
            .await?
            .filter(|r| r.user_id == user.id.0 || user.role == crossdock::accounts::Role::Admin)
            .ok_or_else(|| ServiceError::NotFound(format!("bulk action {job}")))?;
        let action: TriageAction = serde_json::from_str(&row.action).context("stored bulk action is unreadable")?;
        Ok(BulkStatus {
            id: row.id,
            action: action.name().to_owned(),
            total: row.total,
            done: row.done,
            finished: row.finished_at.is_some(),
            items: store::bulk::items(&self.pool, job).await?,
        })
    }
}
