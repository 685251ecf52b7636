//! Pages for admins.

pub mod history;
pub mod policies;
pub mod queues;
pub mod replays;
pub mod routing;
pub mod sites;
pub mod sources;
pub mod users;
