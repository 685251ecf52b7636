//! The SLA board and its read-only links.

use crossdock::board::{Board, BoardGrouping};
use leptos::prelude::*;

use crate::serverfns::codec::Answer;

use crate::AppError;
use crate::dto::{BoardLinkEntry, WallBoard};

/// The board, one row per queue, site or person.
#[server(prefix = "/console", endpoint = "board", output = Answer)]
pub async fn read_board(grouping: BoardGrouping) -> Result<Board, AppError> {
    crate::ports::console()?.board(grouping).await
}

/// The counts a screen's link shows.
#[server(prefix = "/console", endpoint = "wall_board", output = Answer)]
pub async fn read_wall_board(token: String) -> Result<WallBoard, AppError> {
    crate::ports::console()?.wall_board(token).await
}

#[server(prefix = "/console", endpoint = "board_links", output = Answer)]
pub async fn board_links() -> Result<Vec<BoardLinkEntry>, AppError> {
    crate::ports::console()?.board_links().await
}

/// Creates a read-only link; answers its token, shown once.
#[server(prefix = "/console", endpoint = "create_board_link", output = Answer)]
pub async fn create_board_link(name: String, grouping: BoardGrouping) -> Result<String, AppError> {
    crate::ports::console()?.create_board_link(name, grouping).await
}

#[server(prefix = "/console", endpoint = "revoke_board_link", output = Answer)]
pub async fn revoke_board_link(id: i64) -> Result<(), AppError> {
    crate::ports::console()?.revoke_board_link(id).await
}
