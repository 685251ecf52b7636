//! The lifecycle of an exception: statuses, and the actions that move between
//! them.
//!
//! ```text
//! new -> acknowledged -> in_progress <-> waiting
//!  |          |              |       (waiting may be entered from any open status)
//!  +----------+--------------+--------------+--> resolved | dismissed
//!                                                    |
//!                          in_progress <-- reopen ---+
//! ```

use serde::{Deserialize, Serialize};

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

    /// The status `action` leads to from this one, or why it may not be taken.
    pub fn apply(self, action: ActionKind) -> Result<Status, IllegalMove> {
        use ActionKind as A;
        use Status as S;
        let next = match (self, action) {
            (S::New, A::Acknowledge) => S::Acknowledged,
            (S::New | S::Acknowledged, A::Start) => S::InProgress,
            // Waiting on someone can start at once, whoever looks first.
            (S::New | S::Acknowledged | S::InProgress, A::Wait) => S::Waiting,
            (S::Waiting, A::Resume) => S::InProgress,
            (s, A::Resolve) if s.is_open() => S::Resolved,
            (s, A::Dismiss) if s.is_open() => S::Dismissed,
            (S::Resolved | S::Dismissed, A::Reopen) => S::InProgress,
            (from, action) => return Err(IllegalMove { from, action }),
        };
        Ok(next)
    }

    /// The actions that may be taken from this status.
    pub fn allowed_actions(self) -> Vec<ActionKind> {
        ActionKind::ALL.iter().copied().filter(|a| self.apply(*a).is_ok()).collect()
    }
}

named_enum! {
    /// What a person (or the system) does to an exception's status.
    pub enum ActionKind ("action") {
        Acknowledge => "acknowledge",
        Start => "start",
        Wait => "wait",
        Resume => "resume",
        Resolve => "resolve",
        Dismiss => "dismiss",
        Reopen => "reopen",
    }
}

impl ActionKind {
    /// A verb for buttons.
    pub const fn label(self) -> &'static str {
        match self {
            ActionKind::Acknowledge => "Acknowledge",
            ActionKind::Start => "Start",
            ActionKind::Wait => "Wait",
            ActionKind::Resume => "Resume",
            ActionKind::Resolve => "Resolve",
            ActionKind::Dismiss => "Dismiss",
            ActionKind::Reopen => "Reopen",
        }
    }
}

/// An action refused by the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} an exception that is {}", from.label().to_lowercase())]
pub struct IllegalMove {
    pub from: Status,
    pub action: ActionKind,
}

named_enum! {
    /// Who an exception is waiting on.
    pub enum WaitParty ("party") {
        Supplier => "supplier",
        Carrier => "carrier",
        Customer => "customer",
        /// Another team inside the company.
        Team => "team",
    }
}

named_enum! {
    /// How an exception was resolved.
    pub enum ResolutionCode ("resolution") {
        /// Corrected in the system of record.
        Corrected => "corrected",
        /// The failed message was sent again and accepted.
        Replayed => "replayed",
        /// The variance was accepted as it is.
        Accepted => "accepted",
        /// Fixed by the supplier, carrier or customer.
        FixedExternally => "fixed_externally",
        /// Already handled elsewhere.
        Duplicate => "duplicate",
        /// The milestone it waited for came after all.
        MilestoneArrived => "milestone_arrived",
    }
}

/// A reason a person gives: trimmed, not empty, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reason(String);

/// Why a reason was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReasonError {
    #[error("a reason is required")]
    Empty,
    #[error("the reason is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the reason holds control characters (only tabs and line breaks may be written)")]
    Control,
}

impl Reason {
    pub const MAX: usize = 2000;

    pub fn parse(text: &str) -> Result<Self, ReasonError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ReasonError::Empty);
        }
        if text.chars().count() > Self::MAX {
            return Err(ReasonError::TooLong { max: Self::MAX });
        }
        if !crate::text::is_free_text(text) {
            return Err(ReasonError::Control);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Reason {
    type Error = ReasonError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Reason::parse(&value)
    }
}

impl From<Reason> for String {
    fn from(r: Reason) -> Self {
        r.0
    }
}

/// An action with what it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Acknowledge,
    Start,
    Wait { party: WaitParty, reason: Reason },
    Resume,
    Resolve { code: ResolutionCode, note: Option<Reason> },
    Dismiss { reason: Reason },
    Reopen { reason: Reason },
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Acknowledge => ActionKind::Acknowledge,
            Action::Start => ActionKind::Start,
            Action::Wait { .. } => ActionKind::Wait,
            Action::Resume => ActionKind::Resume,
            Action::Resolve { .. } => ActionKind::Resolve,
            Action::Dismiss { .. } => ActionKind::Dismiss,
            Action::Reopen { .. } => ActionKind::Reopen,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_happy_path_runs_from_new_to_resolved() {
        let mut s = Status::New;
        for a in [ActionKind::Acknowledge, ActionKind::Start, ActionKind::Wait, ActionKind::Resume, ActionKind::Resolve]
        {
            s = s.apply(a).unwrap();
        }
        assert_eq!(s, Status::Resolved);
    }

    #[test]
    fn a_closed_exception_only_reopens_into_progress() {
        for closed in [Status::Resolved, Status::Dismissed] {
            assert_eq!(closed.allowed_actions(), vec![ActionKind::Reopen]);
            assert_eq!(closed.apply(ActionKind::Reopen), Ok(Status::InProgress));
        }
    }

    #[test]
    fn an_illegal_move_is_a_typed_error() {
        let err = Status::New.apply(ActionKind::Resume).unwrap_err();
        assert_eq!(err, IllegalMove { from: Status::New, action: ActionKind::Resume });
        assert_eq!(err.to_string(), "cannot resume an exception that is new");
        assert!(Status::Waiting.apply(ActionKind::Acknowledge).is_err());
        assert_eq!(Status::New.apply(ActionKind::Wait), Ok(Status::Waiting), "waiting on a supplier right away");
        assert!(Status::Resolved.apply(ActionKind::Resolve).is_err());
    }

    #[test]
    fn reasons_are_trimmed_and_required() {
        assert_eq!(Reason::parse("  supplier called  ").unwrap().as_str(), "supplier called");
        assert_eq!(Reason::parse(" \n "), Err(ReasonError::Empty));
        assert!(matches!(Reason::parse(&"x".repeat(2001)), Err(ReasonError::TooLong { .. })));
        assert_eq!(Reason::parse("called\r\n\tthey ship Friday").unwrap().as_str(), "called\r\n\tthey ship Friday");
        assert_eq!(Reason::parse("called\u{0}"), Err(ReasonError::Control));
    }

    #[test]
    fn actions_carry_their_details_on_the_wire() {
        let action = Action::Wait { party: WaitParty::Supplier, reason: Reason::parse("new date asked").unwrap() };
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!(json, serde_json::json!({"action": "wait", "party": "supplier", "reason": "new date asked"}));
        assert_eq!(serde_json::from_value::<Action>(json).unwrap(), action);
        let blank = serde_json::json!({"action": "dismiss", "reason": "  "});
        assert!(serde_json::from_value::<Action>(blank).is_err());
    }

    fn arb_action() -> impl Strategy<Value = ActionKind> {
        prop::sample::select(ActionKind::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn no_sequence_of_actions_reaches_a_forbidden_state(actions in prop::collection::vec(arb_action(), 0..60)) {
            let mut status = Status::New;
            let mut left_new = false;
            for action in actions {
                match status.apply(action) {
                    Ok(next) => {
                        // Nothing leads back to new.
                        prop_assert_ne!(next, Status::New);
                        // Waiting is entered only from an open status that is not waiting.
                        if next == Status::Waiting {
                            prop_assert!(status.is_open() && status != Status::Waiting);
                        }
                        // A closed exception can only be reopened, into progress.
                        if !status.is_open() {
                            prop_assert_eq!(action, ActionKind::Reopen);
                            prop_assert_eq!(next, Status::InProgress);
                        }
                        // Closing happens only from an open status.
                        if !next.is_open() {
                            prop_assert!(status.is_open());
                        }
                        left_new = true;
                        status = next;
                    }
                    Err(err) => {
                        prop_assert_eq!(err.from, status);
                        prop_assert!(!status.allowed_actions().contains(&action));
                    }
                }
            }
            prop_assert!(left_new || status == Status::New);
        }
    }
}
