//! Pages for admins.

pub mod channels;
pub mod connectors;
pub mod escalations;
pub mod expectations;
pub mod history;
pub mod policies;
pub mod queues;
pub mod retry_policies;
pub mod routing;
pub mod sites;
pub mod sources;
pub mod test_event;
pub mod users;
