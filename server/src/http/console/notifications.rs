//! The signed-in person's notifications.

use crossdock_app::AppError;
use std::collections::BTreeSet;

use crossdock::escalation::EscalationLevel;
use crossdock_app::dto::{NotificationEntry, Notifications, OutwardChoice};
use crossdock_app::ports::NotificationsPort;

use super::{ConsoleServices, answer};
use crate::services::ServiceError;

impl ConsoleServices {
    async fn outward_choice(&self, levels: BTreeSet<EscalationLevel>) -> Result<OutwardChoice, ServiceError> {
        let channels = self.services.channels_in_service().await?;
        Ok(OutwardChoice { levels, channels })
    }
}

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

    async fn outward(&self) -> Result<OutwardChoice, AppError> {
        answer(async {
            let me = self.user().await?;
            let levels = self.services.outward_levels(&me).await?;
            Ok(self.outward_choice(levels).await?)
        })
        .await
    }

    async fn set_outward(&self, levels: BTreeSet<EscalationLevel>) -> Result<OutwardChoice, AppError> {
        answer(async {
            let me = self.user().await?;
            let levels = self.services.set_outward_levels(&me, &levels).await?;
            Ok(self.outward_choice(levels).await?)
        })
        .await
    }
}
