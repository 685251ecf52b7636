//! Queues.

use crossdock_app::AppError;
use crossdock_app::dto::{QueueChoices, QueueEntry, SiteChoice};
use crossdock_app::ports::{QueueInput, QueuesPort};

use super::{ConsoleServices, answer};

#[async_trait::async_trait]
impl QueuesPort for ConsoleServices {
    async fn list_queues(&self) -> Result<(Vec<QueueEntry>, QueueChoices), AppError> {
        answer(async {
            let (queues, policies, sites) = self.services.list_queues(&self.as_viewer().await?);
            let entries = queues
                .into_iter()
                .map(|q| QueueEntry {
                    calendar: format!("{}, {} working hours a week", q.time_zone, q.weekly_minutes / 60),
                    key: q.spec.key,
                    name: q.spec.name,
                    team: q.spec.team,
                    sla_policy: q.spec.sla_policy,
                    site: q.spec.site,
                })
                .collect();
            let sites =
                sites.into_iter().map(|s| SiteChoice { code: s.code, name: s.name, zone: s.time_zone }).collect();
            Ok((entries, QueueChoices { policies, sites }))
        })
        .await
    }

    async fn save_queue(&self, q: QueueInput) -> Result<(), AppError> {
        answer(async {
            let admin = self.as_admin().await?;
            Ok(self.services.save_queue(&admin, &q.key, &q.name, &q.team, &q.sla_policy, &q.site).await?)
        })
        .await
    }
}
