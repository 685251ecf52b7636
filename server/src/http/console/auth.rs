//! Signing in and out.

use crossdock::accounts::Density;
use crossdock_app::AppError;
use crossdock_app::dto::Me;
use crossdock_app::ports::AuthPort;
use secrecy::SecretString;

use super::{ConsoleServices, answer, client_address, request_session};
use crate::auth::CurrentUser;
use crate::http::session;
use crate::services::{LoginError, ServiceError};

fn me(user: &CurrentUser) -> Me {
    Me {
        username: user.username.to_string(),
        display_name: user.display_name.clone(),
        role: user.role,
        queues: user.queues.iter().map(|q| q.to_string()).collect(),
        density: user.density,
    }
}

#[async_trait::async_trait]
impl AuthPort for ConsoleServices {
    async fn me(&self) -> Result<Option<Me>, AppError> {
        answer(async { Ok(self.signed_in().await?.as_ref().map(me)) }).await
    }

    async fn login(&self, username: String, password: String) -> Result<Me, AppError> {
        answer(async {
            let address = client_address(&self.sessions).await;
            let (user, stamp) =
                self.services.login(&username, SecretString::from(password), &address).await.map_err(|e| match e {
                    LoginError::Refused => AppError::invalid("password", e.to_string()),
                    LoginError::Locked { .. } => AppError::Refused(e.to_string()),
                    LoginError::Busy => AppError::Unavailable,
                    LoginError::Internal(err) => ServiceError::Internal(err).into(),
                })?;
            let session = request_session().await?;
            session::sign_in(&session, stamp).await.map_err(ServiceError::Internal)?;
            Ok(me(&user))
        })
        .await
    }

    async fn set_density(&self, density: Density) -> Result<(), AppError> {
        answer(async { Ok(self.services.set_density(&self.as_viewer().await?, density).await?) }).await
    }

    async fn logout(&self) -> Result<(), AppError> {
        answer(async {
            if let Some(user) = self.signed_in().await? {
                self.services.record_logout(&user, &client_address(&self.sessions).await).await?;
            }
            let session = request_session().await?;
            session::sign_out(&session).await.map_err(ServiceError::Internal)?;
            Ok(())
        })
        .await
    }
}
