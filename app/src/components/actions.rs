//! Building a triage action from what a person chose and typed.

use crossdock::lifecycle::{Action, Reason, ResolutionCode, WaitParty};
use crossdock::triage::{Change, TriageAction};

use crate::AppError;

/// The actions a person can pick, with their labels.
pub const CHOICES: [(&str, &str); 11] = [
    ("claim", "Claim"),
    ("assign", "Assign or move"),
    ("comment", "Comment"),
    ("acknowledge", "Acknowledge"),
    ("start", "Start"),
    ("wait", "Wait on someone"),
    ("resume", "Resume"),
    ("resolve", "Resolve"),
    ("dismiss", "Dismiss"),
    ("reopen", "Reopen"),
    ("replay", "Replay message"),
];

/// What a person filled in for an action.
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    pub kind: String,
    pub text: String,
    pub assignee: String,
    pub queue: String,
    pub party: String,
    pub code: String,
}

fn status(action: Action) -> TriageAction {
    TriageAction::Change(Change::Status(action))
}

fn reason(field: &str, text: &str) -> Result<Reason, AppError> {
    Reason::parse(text).map_err(|e| AppError::invalid(field, e.to_string()))
}

impl ActionInput {
    /// The action, or a message for the field that is missing or wrong.
    pub fn action(&self) -> Result<TriageAction, AppError> {
        Ok(match self.kind.as_str() {
            "claim" => TriageAction::claim(),
            "assign" => {
                let (assignee, queue) = (self.assignee.trim(), self.queue.trim());
                if assignee.is_empty() && queue.is_empty() {
                    return Err(AppError::invalid("assignee", "choose a person or a queue"));
                }
                TriageAction::Change(Change::Assign {
                    assignee: Some(assignee.to_owned()).filter(|a| !a.is_empty() && a != "(nobody)"),
                    queue: Some(queue.to_owned()).filter(|q| !q.is_empty()),
                    reason: reason("text", &self.text)?,
                })
            }
            "comment" => TriageAction::Change(Change::Comment { text: reason("text", &self.text)? }),
            "acknowledge" => status(Action::Acknowledge),
            "start" => status(Action::Start),
            "resume" => status(Action::Resume),
            "wait" => status(Action::Wait {
                party: self
                    .party
                    .parse::<WaitParty>()
                    .map_err(|_| AppError::invalid("party", "who is it waiting on?"))?,
                reason: reason("text", &self.text)?,
            }),
            "resolve" => status(Action::Resolve {
                code: self
                    .code
                    .parse::<ResolutionCode>()
                    .map_err(|_| AppError::invalid("code", "choose a resolution"))?,
                note: Some(self.text.as_str())
                    .filter(|t| !t.trim().is_empty())
                    .map(|t| reason("text", t))
                    .transpose()?,
            }),
            "dismiss" => status(Action::Dismiss { reason: reason("text", &self.text)? }),
            "reopen" => status(Action::Reopen { reason: reason("text", &self.text)? }),
            "replay" => TriageAction::Replay,
            _ => return Err(AppError::invalid("kind", "choose an action")),
        })
    }

    /// Whether the action needs a text, and what it is called.
    pub fn text_label(kind: &str) -> Option<&'static str> {
        match kind {
            "assign" | "dismiss" | "reopen" | "wait" => Some("Reason"),
            "comment" => Some("Comment"),
            "resolve" => Some("Note (optional)"),
            _ => None,
        }
    }
}

pub const PARTIES: [(&str, &str); 4] =
    [("supplier", "Supplier"), ("carrier", "Carrier"), ("customer", "Customer"), ("team", "Another team")];

pub const RESOLUTIONS: [(&str, &str); 5] = [
    ("corrected", "Corrected in the system of record"),
    ("replayed", "Message replayed"),
    ("accepted", "Variance accepted"),
    ("fixed_externally", "Fixed by the other party"),
    ("duplicate", "Duplicate"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_required_where_the_action_needs_one() {
        let input = ActionInput { kind: "dismiss".into(), ..Default::default() };
        assert_eq!(input.action().unwrap_err().for_field("text").as_deref(), Some("a reason is required"));
        let wait = ActionInput { kind: "wait".into(), text: "asked for a date".into(), ..Default::default() };
        assert!(wait.action().unwrap_err().for_field("party").is_some());
        let resolve = ActionInput { kind: "resolve".into(), code: "corrected".into(), ..Default::default() };
        assert!(matches!(
            resolve.action(),
            Ok(TriageAction::Change(Change::Status(Action::Resolve { note: None, .. })))
        ));
    }
}
