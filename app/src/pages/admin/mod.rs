//! Pages for admins.

pub mod queues;
pub mod sources;
pub mod users;
