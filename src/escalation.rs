//! Escalation policies: what happens, once per exception and level, when an
//! exception's SLA is at risk, when it is breached, and when nobody has
//! acknowledged it for some business minutes. Admins set one per queue; a
//! queue without one follows the defaults (notify at risk and at breach).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{FieldProblem, Severity, named_enum};

named_enum! {
    /// The steps of escalation; each fires at most once per exception.
    pub enum EscalationLevel ("escalation level") {
        /// Past the at-risk share of its SLA target.
        AtRisk => "at_risk",
        /// Past its SLA target.
        Breached => "breached",
        /// Still new after the policy's business minutes.
        Unacknowledged => "unacknowledged",
    }
}

impl EscalationLevel {
    pub const fn label(self) -> &'static str {
        match self {
            EscalationLevel::AtRisk => "At risk",
            EscalationLevel::Breached => "Breached",
            EscalationLevel::Unacknowledged => "Not acknowledged",
        }
    }

    /// The bit an exception keeps once this level has fired.
    pub const fn bit(self) -> i64 {
        match self {
            EscalationLevel::AtRisk => 1,
            EscalationLevel::Breached => 2,
            EscalationLevel::Unacknowledged => 4,
        }
    }
}

fn yes() -> bool {
    true
}

/// What one queue's exceptions escalate to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationPolicy {
    pub queue: String,
    /// At risk: notify the assignee, or the queue's members when unassigned.
    #[serde(default = "yes")]
    pub notify_at_risk: bool,
    /// Breached: notify the supervisors.
    #[serde(default = "yes")]
    pub notify_breached: bool,
    /// Breached: raise the severity one step (critical stays critical).
    #[serde(default)]
    pub raise_severity: bool,
    /// Breached: move it to this queue (unassigned, for its team to take).
    #[serde(default)]
    pub move_to: Option<String>,
    /// Not acknowledged within this many business minutes of the queue's
    /// calendar: notify the assignee or the queue, and the supervisors.
    #[serde(default)]
    pub unacknowledged_minutes: Option<u32>,
}

impl EscalationPolicy {
    /// What a queue without a policy of its own does.
    pub fn default_for(queue: &str) -> Self {
        Self {
            queue: queue.to_owned(),
            notify_at_risk: true,
            notify_breached: true,
            raise_severity: false,
            move_to: None,
            unacknowledged_minutes: None,
        }
    }

    /// Whether reaching `level` does anything under this policy.
    pub fn acts_at(&self, level: EscalationLevel) -> bool {
        match level {
            EscalationLevel::AtRisk => self.notify_at_risk,
            EscalationLevel::Breached => self.notify_breached || self.raise_severity || self.move_to.is_some(),
            EscalationLevel::Unacknowledged => self.unacknowledged_minutes.is_some(),
        }
    }
}

/// The escalation policies in force, one per queue at most.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationSet {
    pub policies: Vec<EscalationPolicy>,
}

impl EscalationSet {
    pub const MAX_MINUTES: u32 = 525_600;

    /// The policy of a queue: its own, or the defaults.
    pub fn for_queue(&self, queue: &str) -> EscalationPolicy {
        self.policies.iter().find(|p| p.queue == queue).cloned().unwrap_or_else(|| EscalationPolicy::default_for(queue))
    }

    /// Every problem, by JSON pointer into the set; `queue_exists` says
    /// which queue keys are configured.
    pub fn problems(&self, queue_exists: impl Fn(&str) -> bool) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        let mut push = |i: usize, field: &str, message: &str| {
            problems.push(FieldProblem { pointer: format!("/policies/{i}/{field}"), message: message.to_owned() })
        };
        let mut seen = BTreeSet::new();
        for (i, p) in self.policies.iter().enumerate() {
            if !queue_exists(&p.queue) {
                push(i, "queue", "no such queue");
            } else if !seen.insert(p.queue.as_str()) {
                push(i, "queue", "this queue has another policy already");
            }
            match p.move_to.as_deref() {
                Some(to) if to == p.queue => push(i, "move_to", "an escalation moves to another queue"),
                Some(to) if !queue_exists(to) => push(i, "move_to", "no such queue"),
                _ => {}
            }
            if p.unacknowledged_minutes.is_some_and(|m| !(1..=Self::MAX_MINUTES).contains(&m)) {
                push(i, "unacknowledged_minutes", "between 1 and 525600 business minutes");
            }
        }
        problems
    }
}

/// One step more severe; critical stays critical.
pub const fn raised(severity: Severity) -> Severity {
    match severity {
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_without_a_policy_notifies_at_risk_and_at_breach_only() {
        let set = EscalationSet::default();
        let p = set.for_queue("receiving");
        assert!(p.acts_at(EscalationLevel::AtRisk) && p.acts_at(EscalationLevel::Breached));
        assert!(!p.acts_at(EscalationLevel::Unacknowledged));
    }

    #[test]
    fn problems_name_the_line_and_field() {
        let set = EscalationSet {
            policies: vec![
                EscalationPolicy { move_to: Some("receiving".into()), ..EscalationPolicy::default_for("receiving") },
                EscalationPolicy { unacknowledged_minutes: Some(0), ..EscalationPolicy::default_for("receiving") },
                EscalationPolicy { move_to: Some("nowhere".into()), ..EscalationPolicy::default_for("ghost") },
            ],
        };
        let problems = set.problems(|q| q == "receiving");
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            vec![
                "/policies/0/move_to",
                "/policies/1/queue",
                "/policies/1/unacknowledged_minutes",
                "/policies/2/queue",
                "/policies/2/move_to"
            ]
        );
    }

    #[test]
    fn policies_written_by_hand_take_the_defaults_for_what_they_leave_out() {
        let p: EscalationPolicy = serde_json::from_str(r#"{"queue": "billing", "raise_severity": true}"#).unwrap();
        assert!(p.notify_at_risk && p.notify_breached && p.raise_severity && p.move_to.is_none());
        assert_eq!(raised(Severity::High), Severity::Critical);
        assert_eq!(raised(Severity::Critical), Severity::Critical);
    }
}
