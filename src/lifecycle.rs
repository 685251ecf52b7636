//! The lifecycle of an exception.

use crate::named_enum;

named_enum! {
    /// Where an exception stands in its lifecycle.
    pub enum Status ("status") {
        New => "new",
        Acknowledged => "acknowledged",
        InProgress => "in_progress",
        /// Waiting on an outside party; the SLA clock is paused.
        Waiting => "waiting",
        Resolved => "resolved",
        Dismissed => "dismissed",
    }
}

impl Status {
    /// Still needs work from someone.
    pub const fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Dismissed)
    }

    /// A word for people.
    pub const fn label(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::Acknowledged => "Acknowledged",
            Status::InProgress => "In progress",
            Status::Waiting => "Waiting",
            Status::Resolved => "Resolved",
            Status::Dismissed => "Dismissed",
        }
    }
}
