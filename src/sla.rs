//! SLA policies and clocks.
//!
//! Every exception runs two clocks against its queue's policy, counted in the
//! queue's business calendar: one to acknowledge (runs while the exception is
//! new) and one to resolve (runs while it is open, pauses while it waits on an
//! outside party, stops when it is resolved or dismissed, and runs on after a
//! reopen). A reading is computed from the exception's status history; a
//! [`SlaSnapshot`] of it answers "what state at instant T" in constant time
//! until the next status change.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::BusinessCalendar;
use crate::{FieldProblem, Severity, Status, named_enum};

named_enum! {
    /// Where a clock stands against its target.
    pub enum SlaState ("SLA state") {
        OnTrack => "on_track",
        /// Past the at-risk share of the target.
        AtRisk => "at_risk",
        /// Past the target and still open.
        Breached => "breached",
        /// Stopped while waiting on an outside party.
        Paused => "paused",
        /// Stopped within the target.
        Met => "met",
        /// Stopped after the target.
        Missed => "missed",
    }
}

impl SlaState {
    pub const fn label(self) -> &'static str {
        match self {
            SlaState::OnTrack => "On track",
            SlaState::AtRisk => "At risk",
            SlaState::Breached => "Breached",
            SlaState::Paused => "Paused",
            SlaState::Met => "Met",
            SlaState::Missed => "Missed",
        }
    }
}

named_enum! {
    /// The two clocks of an exception.
    pub enum ClockKind ("clock") {
        Acknowledge => "acknowledge",
        Resolve => "resolve",
    }
}

/// Targets for one severity, in business minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTargets {
    pub acknowledge_minutes: u32,
    pub resolve_minutes: u32,
}

/// A policy as admins write it and the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicySpec {
    pub name: String,
    /// Targets for every severity.
    pub targets: BTreeMap<Severity, SlaTargets>,
    /// Share of a target after which a clock is at risk, in percent.
    #[serde(default = "default_at_risk_percent")]
    pub at_risk_percent: u8,
}

fn default_at_risk_percent() -> u8 {
    SlaPolicy::DEFAULT_AT_RISK_PERCENT
}

/// A validated SLA policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    name: String,
    targets: [SlaTargets; 4],
    at_risk_percent: u8,
}

impl SlaPolicy {
    pub const DEFAULT_AT_RISK_PERCENT: u8 = 75;
    /// The largest target accepted: a year of round-the-clock minutes.
    pub const MAX_TARGET_MINUTES: u32 = 525_600;
    pub const MAX_NAME: usize = 100;

    /// Validates a spec, reporting every problem with the pointer of its field.
    pub fn from_spec(spec: &SlaPolicySpec) -> Result<Self, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut push = |pointer: String, message: String| problems.push(FieldProblem { pointer, message });
        let name = spec.name.trim();
        if name.is_empty() {
            push("/name".into(), "a name is required".into());
        } else if name.chars().count() > Self::MAX_NAME {
            push("/name".into(), format!("is longer than {} characters", Self::MAX_NAME));
        } else if !crate::text::is_one_line(name) {
            push("/name".into(), "must not contain control characters".into());
        }
        if !(1..=99).contains(&spec.at_risk_percent) {
            push("/at_risk_percent".into(), "must be between 1 and 99".into());
        }
        let mut targets = [SlaTargets { acknowledge_minutes: 0, resolve_minutes: 0 }; 4];
        for severity in Severity::ALL {
            let base = format!("/targets/{severity}");
            let Some(t) = spec.targets.get(severity) else {
                push(base, format!("targets for {severity} severity are required"));
                continue;
            };
            for (field, minutes) in
                [("acknowledge_minutes", t.acknowledge_minutes), ("resolve_minutes", t.resolve_minutes)]
            {
                if minutes == 0 || minutes > Self::MAX_TARGET_MINUTES {
                    push(
                        format!("{base}/{field}"),
                        format!("must be between 1 and {} minutes", Self::MAX_TARGET_MINUTES),
                    );
                }
            }
            if t.acknowledge_minutes > t.resolve_minutes {
                push(format!("{base}/acknowledge_minutes"), "must not be longer than the target to resolve".into());
            }
            targets[*severity as usize] = *t;
        }
        if problems.is_empty() {
            Ok(Self { name: name.to_owned(), targets, at_risk_percent: spec.at_risk_percent })
        } else {
            Err(problems)
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn targets(&self, severity: Severity) -> SlaTargets {
        self.targets[severity as usize]
    }

    pub fn at_risk_percent(&self) -> u8 {
        self.at_risk_percent
    }

    /// The target of one clock, in business minutes.
    pub fn target_minutes(&self, severity: Severity, clock: ClockKind) -> u32 {
        let t = self.targets(severity);
        match clock {
            ClockKind::Acknowledge => t.acknowledge_minutes,
            ClockKind::Resolve => t.resolve_minutes,
        }
    }

    /// Reads one clock of an exception of this severity.
    pub fn read(
        &self,
        clock: ClockKind,
        severity: Severity,
        calendar: &BusinessCalendar,
        history: &[StatusChange],
        now: DateTime<Utc>,
    ) -> ClockReading {
        read_clock(
            clock,
            i64::from(self.target_minutes(severity, clock)) * 60,
            self.at_risk_percent,
            calendar,
            history,
            now,
        )
    }
}

/// An exception entered `status` at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    pub status: Status,
}

/// What a clock's running depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Paused,
    Stopped,
}

fn phase(clock: ClockKind, status: Status) -> Phase {
    match (clock, status) {
        (ClockKind::Acknowledge, Status::New) => Phase::Running,
        (ClockKind::Acknowledge, _) => Phase::Stopped,
        (ClockKind::Resolve, Status::Waiting) => Phase::Paused,
        (ClockKind::Resolve, s) if s.is_open() => Phase::Running,
        (ClockKind::Resolve, _) => Phase::Stopped,
    }
}

/// One clock at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockReading {
    pub clock: ClockKind,
    pub state: SlaState,
    pub target_seconds: i64,
    /// Business time the clock has run.
    pub consumed_seconds: i64,
    /// Target minus consumed: negative once breached.
    pub remaining_seconds: i64,
    /// When the target is (or was) reached; unknown while paused within target.
    pub due_at: Option<DateTime<Utc>>,
    /// When the at-risk share is (or was) reached; unknown while paused before it.
    pub at_risk_at: Option<DateTime<Utc>>,
}

impl ClockReading {
    /// What this reading says about later instants, until the next status change.
    pub fn snapshot(&self) -> SlaSnapshot {
        let frozen = match self.state {
            SlaState::Paused | SlaState::Met | SlaState::Missed => Some(self.state),
            SlaState::OnTrack | SlaState::AtRisk | SlaState::Breached => None,
        };
        SlaSnapshot { frozen, due_at: self.due_at, at_risk_at: self.at_risk_at }
    }
}

/// A clock reduced to what its state at later instants depends on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaSnapshot {
    /// The state while the clock does not run.
    pub frozen: Option<SlaState>,
    pub due_at: Option<DateTime<Utc>>,
    pub at_risk_at: Option<DateTime<Utc>>,
}

impl SlaSnapshot {
    /// The state at `now`, valid until the exception's status changes.
    pub fn state_at(&self, now: DateTime<Utc>) -> SlaState {
        if let Some(state) = self.frozen {
            return state;
        }
        match (self.due_at, self.at_risk_at) {
            (Some(due), _) if now >= due => SlaState::Breached,
            (_, Some(risk)) if now >= risk => SlaState::AtRisk,
            _ => SlaState::OnTrack,
        }
    }
}

/// Reads a clock from a status history (oldest first; the first entry is the
/// opening) at instant `now`. Entries after `now` are ignored.
pub fn read_clock(
    clock: ClockKind,
    target_seconds: i64,
    at_risk_percent: u8,
    calendar: &BusinessCalendar,
    history: &[StatusChange],
    now: DateTime<Utc>,
) -> ClockReading {
    let risk_seconds = target_seconds * i64::from(at_risk_percent) / 100;
    let mut consumed = 0i64;
    let mut due_at = None;
    let mut at_risk_at = None;
    let mut current = Phase::Running;
    let past: Vec<&StatusChange> = history.iter().filter(|c| c.at <= now).collect();

    for (i, change) in past.iter().enumerate() {
        current = phase(clock, change.status);
        // The acknowledge clock stops for good at the first move out of new.
        if clock == ClockKind::Acknowledge && current == Phase::Stopped {
            break;
        }
        if current != Phase::Running {
            continue;
        }
        let start = change.at;
        let end = past.get(i + 1).map_or(now, |next| next.at);
        let run = calendar.seconds_between(start, end);
        if due_at.is_none() && consumed + run >= target_seconds {
            due_at = calendar.add_seconds(start, target_seconds - consumed);
        }
        if at_risk_at.is_none() && consumed + run >= risk_seconds {
            at_risk_at = calendar.add_seconds(start, risk_seconds - consumed);
        }
        consumed += run;
    }

    let state = match current {
        Phase::Stopped if consumed <= target_seconds => SlaState::Met,
        Phase::Stopped => SlaState::Missed,
        Phase::Paused if consumed >= target_seconds => SlaState::Breached,
        Phase::Paused => SlaState::Paused,
        Phase::Running if consumed >= target_seconds => SlaState::Breached,
        Phase::Running if consumed >= risk_seconds => SlaState::AtRisk,
        Phase::Running => SlaState::OnTrack,
    };
    if current == Phase::Running {
        if due_at.is_none() {
            due_at = calendar.add_seconds(now, target_seconds - consumed);
        }
        if at_risk_at.is_none() {
            at_risk_at = calendar.add_seconds(now, risk_seconds - consumed);
        }
    }
    ClockReading {
        clock,
        state,
        target_seconds,
        consumed_seconds: consumed,
        remaining_seconds: target_seconds - consumed,
        due_at,
        at_risk_at,
    }
}

#[cfg(test)]
mod tests;
