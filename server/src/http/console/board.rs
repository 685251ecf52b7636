//! The SLA board and its read-only links.

use crossdock::board::{Board, BoardGrouping};
use crossdock_app::AppError;
use crossdock_app::dto::{BoardLinkEntry, WallBoard};
use crossdock_app::ports::BoardPort;

use super::{ConsoleServices, answer, denied};

#[async_trait::async_trait]
impl BoardPort for ConsoleServices {
    async fn board(&self, grouping: BoardGrouping) -> Result<Board, AppError> {
        answer(async {
            let reader = self.user().await?.board_reader().map_err(denied)?;
            Ok(self.services.board(&reader, grouping).await?)
        })
        .await
    }

    async fn wall_board(&self, token: String) -> Result<WallBoard, AppError> {
        answer(async {
            let (name, mut board) = self.services.board_by_link(&token).await?;
            // A screen shows counts: no user names, no medians.
            for row in &mut board.rows {
                row.key = Some(row.label.clone());
                row.median_ack_seconds = None;
                row.median_resolve_seconds = None;
            }
            Ok(WallBoard { name, board })
        })
        .await
    }

    async fn board_links(&self) -> Result<Vec<BoardLinkEntry>, AppError> {
        answer(async {
            let links = self.services.board_links(&self.as_admin().await?).await?;
            Ok(links
                .into_iter()
                .map(|l| BoardLinkEntry {
                    id: l.id,
                    name: l.name,
                    grouping: l.grouping,
                    created_by: l.created_by,
                    created_at: l.created_at,
                    revoked_at: l.revoked_at,
                    revoked_by: l.revoked_by,
                })
                .collect())
        })
        .await
    }

    async fn create_board_link(&self, name: String, grouping: BoardGrouping) -> Result<String, AppError> {
        answer(async {
            let (_, token) = self.services.create_board_link(&self.as_admin().await?, &name, grouping).await?;
            Ok(token)
        })
        .await
    }

    async fn revoke_board_link(&self, id: i64) -> Result<(), AppError> {
        answer(async { Ok(self.services.revoke_board_link(&self.as_admin().await?, id).await?) }).await
    }
}
