//! Components shared by several pages.

pub mod action_form;
pub mod actions;
pub mod actions_panel;
pub mod audit_link;
pub mod auth;
pub mod bell;
pub mod board_links;
pub mod bulk;
pub mod filters;
pub mod forms;
pub mod keys;
pub mod live;
pub mod loaded;
pub mod nav;
pub mod replay_panel;
pub mod sla_clock;
pub mod time;
pub mod timeline;
pub mod views;
