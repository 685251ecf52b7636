//! Queue views: pages of exceptions within the viewer's reach, and the
//! counts beside them.

use crossdock::ExceptionId;
use crossdock::triage::{Cursor, QueueCounts, QueueFilter, QueuePage};

use super::{ServiceError, Services};
use crate::auth::Viewer;
use crate::store::{self, queue_views::Reach};

/// Rows on one page of a queue view.
pub const PAGE_SIZE: u32 = 50;

/// The viewer's reach, as the store filters by it.
struct Scope {
    username: String,
    queues: Option<Vec<String>>,
}

impl Scope {
    fn of(viewer: &Viewer) -> Self {
        Self { username: viewer.user().username.to_string(), queues: viewer.scope().queue_names() }
    }

    fn reach(&self) -> Reach<'_> {
        Reach { username: &self.username, queues: self.queues.as_deref() }
    }
}

impl Services {
    /// One page of a queue view, within the viewer's reach.
    #[tracing::instrument(skip_all)]
    pub async fn queue_page(
        &self,
        viewer: &Viewer,
        filter: &QueueFilter,
        after: Option<Cursor>,
    ) -> Result<QueuePage, ServiceError> {
        let scope = Scope::of(viewer);
        Ok(store::queue_views::page(&self.pool, &scope.reach(), filter, after, PAGE_SIZE, self.now()).await?)
    }

    /// Open exceptions in reach per queue (every queue in reach, empty ones
    /// with 0) and per SLA state.
    pub async fn queue_counts(&self, viewer: &Viewer) -> Result<QueueCounts, ServiceError> {
        let tallies = self.open_tallies(self.now()).await?;
        let mut counts = QueueCounts::of(tallies.iter().filter(|t| viewer.scope().includes(&t.queue)));
        for key in self.configuration().queues.keys().filter(|k| viewer.scope().includes(k.as_str())) {
            if !counts.by_queue.iter().any(|(q, _)| q == key.as_str()) {
                counts.by_queue.push((key.to_string(), 0));
            }
        }
        counts.by_queue.sort();
        Ok(counts)
    }

    /// Keeps the word index quick to read (see
    /// [`store::queue_views::tidy_words`]); the background worker calls this
    /// once an hour.
    #[tracing::instrument(skip_all, err)]
    pub async fn tidy_word_index(&self) -> anyhow::Result<()> {
        store::queue_views::tidy_words(&self.pool).await
    }

    /// How many exceptions a view holds (what a bulk action would touch).
    pub async fn view_count(&self, viewer: &Viewer, filter: &QueueFilter) -> Result<i64, ServiceError> {
        let scope = Scope::of(viewer);
        Ok(store::queue_views::count(&self.pool, &scope.reach(), filter, self.now()).await?)
    }

    /// The exceptions a view holds, at most `max`.
    pub async fn view_ids(
        &self,
        viewer: &Viewer,
        filter: &QueueFilter,
        max: u32,
    ) -> Result<Vec<ExceptionId>, ServiceError> {
        let scope = Scope::of(viewer);
        let ids = store::queue_views::ids(&self.pool, &scope.reach(), filter, self.now(), max).await?;
        Ok(ids.into_iter().map(ExceptionId::new).collect())
    }
}
