//! Notification channels and their deliveries, for admins.

use crossdock::channel::ChannelSpec;
use crossdock_app::AppError;
use crossdock_app::dto::{ChannelEntry, ChannelsView};
use crossdock_app::ports::ChannelsPort;
use secrecy::ExposeSecret;

use super::{ConsoleServices, answer};

#[async_trait::async_trait]
impl ChannelsPort for ConsoleServices {
    async fn channels(&self, channel: Option<String>) -> Result<ChannelsView, AppError> {
        answer(async {
            let admin = self.as_admin().await?;
            let channels = self.services.channels(&admin).await?;
            let deliveries = self.services.deliveries(&admin, channel.as_deref()).await?;
            let (policies, _) = self.services.retry_policies(&admin).await?;
            let (queues, _, _) = self.services.list_queues(&admin.user().viewer());
            Ok(ChannelsView {
                channels: channels
                    .into_iter()
                    .map(|c| ChannelEntry { spec: c.spec, has_secret: c.has_secret })
                    .collect(),
                deliveries,
                retry_policies: policies.into_iter().map(|p| p.name).collect(),
                queues: queues.into_iter().map(|q| q.spec.key).collect(),
            })
        })
        .await
    }

    async fn save_channel(&self, spec: ChannelSpec) -> Result<Option<String>, AppError> {
        answer(async {
            let secret = self.services.save_channel(&self.as_admin().await?, &spec).await?;
            Ok(secret.map(|s| s.expose_secret().to_owned()))
        })
        .await
    }

    async fn rotate_channel_secret(&self, name: String) -> Result<String, AppError> {
        answer(async {
            let secret = self.services.rotate_channel_secret(&self.as_admin().await?, &name).await?;
            Ok(secret.expose_secret().to_owned())
        })
        .await
    }

    async fn delete_channel(&self, name: String) -> Result<(), AppError> {
        answer(async { Ok(self.services.delete_channel(&self.as_admin().await?, &name).await?) }).await
    }

    async fn test_channel(&self, name: String) -> Result<i64, AppError> {
        answer(async { Ok(self.services.test_channel(&self.as_admin().await?, &name).await?) }).await
    }
}
