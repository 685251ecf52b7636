//! Components shared by several pages.

pub mod action_form;
pub mod actions;
pub mod auth;
pub mod bulk;
pub mod forms;
pub mod loaded;
pub mod nav;
pub mod replay_panel;
pub mod sla_clock;
pub mod views;
