//! The signed-in person's notifications.

use crossdock_app::AppError;
use crossdock_app::dto::{NotificationEntry, Notifications};
use crossdock_app::ports::NotificationsPort;

use super::{ConsoleServices, answer};

#[async_trait::async_trait]
impl NotificationsPort for ConsoleServices {
    async fn notifications(&self) -> Result<Notifications, AppError> {
        answer(async {
            let (unread, items) = self.services.notifications(&self.user().await?).await?;
            let items = items
                .into_iter()
                .map(|n| NotificationEntry {
                    id: n.id,
                    exception_id: n.exception_id,
                    kind: n.kind,
                    title: n.title,
                    created_at: n.created_at,
                    read: n.read,
                })
                .collect();
            Ok(Notifications { unread, items })
        })
        .await
    }

    async fn mark_read(&self, id: Option<i64>) -> Result<(), AppError> {
        answer(async {
            self.services.mark_notifications_read(&self.user().await?, id).await?;
            Ok(())
        })
        .await
    }
}
