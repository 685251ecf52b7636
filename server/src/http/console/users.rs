//! Users, for admins.

use crossdock::accounts::UserId;
use crossdock_app::AppError;
use crossdock_app::dto::UserEntry;
use crossdock_app::ports::{UserInput, UsersPort};
use secrecy::SecretString;

use super::{ConsoleServices, answer};
use crate::services::{NewUser, UserChanges, UserSummary};

fn user_entry(u: UserSummary) -> UserEntry {
    UserEntry {
        id: u.id.0,
        username: u.username,
        display_name: u.display_name,
        role: u.role,
        queues: u.queues,
        disabled: u.disabled,
        demo: u.demo,
    }
}

#[async_trait::async_trait]
impl UsersPort for ConsoleServices {
    async fn list_users(&self) -> Result<Vec<UserEntry>, AppError> {
        answer(async {
            Ok(self.services.list_users(&self.as_admin().await?).await?.into_iter().map(user_entry).collect())
        })
        .await
    }

    async fn create_user(&self, input: UserInput) -> Result<UserEntry, AppError> {
        answer(async {
            let admin = self.as_admin().await?;
            let new = NewUser {
                username: input.username,
                display_name: input.display_name,
                role: input.role,
                password: SecretString::from(input.password),
                queues: input.queues,
            };
            Ok(user_entry(self.services.create_user(&admin, &new).await?))
        })
        .await
    }

    async fn update_user(&self, id: i64, input: UserInput) -> Result<UserEntry, AppError> {
        answer(async {
            let admin = self.as_admin().await?;
            let changes = UserChanges { display_name: input.display_name, role: input.role, queues: input.queues };
            Ok(user_entry(self.services.update_user(&admin, UserId(id), &changes).await?))
        })
        .await
    }

    async fn set_user_disabled(&self, id: i64, disabled: bool) -> Result<(), AppError> {
        answer(async { Ok(self.services.set_user_disabled(&self.as_admin().await?, UserId(id), disabled).await?) })
            .await
    }

    async fn reset_password(&self, id: i64, password: String) -> Result<(), AppError> {
        answer(async {
            let admin = self.as_admin().await?;
            Ok(self.services.reset_password(&admin, UserId(id), SecretString::from(password)).await?)
        })
        .await
    }
}
