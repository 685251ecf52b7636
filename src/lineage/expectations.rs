//! Milestones expected after others, within some hours of the site's
//! calendar or around the clock: what the lineage sweep checks.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::stage_number;
use crate::calendar::BusinessCalendar;
use crate::event::MilestoneKind;

/// After one milestone, another is expected within some hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationRule {
    pub after: MilestoneKind,
    pub expect: MilestoneKind,
    pub within_hours: u32,
    /// Hours of the site's business calendar, or around the clock.
    pub business_hours: bool,
}

/// The expectations in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationSet {
    pub rules: Vec<ExpectationRule>,
}

impl ExpectationSet {
    pub const MAX_HOURS: u32 = 24 * 60;

    /// What a new installation expects.
    pub fn standard() -> Self {
        use MilestoneKind as M;
        let rule = |after, expect, within_hours, business_hours| ExpectationRule {
            after,
            expect,
            within_hours,
            business_hours,
        };
        Self {
            rules: vec![
                rule(M::PoCreated, M::PoAcknowledged, 24, true),
                rule(M::AsnReceived, M::ReceiptPosted, 8, true),
                rule(M::ShipmentDispatched, M::DeliveryConfirmed, 72, false),
                rule(M::DeliveryConfirmed, M::InvoicePosted, 24, true),
            ],
        }
    }

    /// Every problem, by JSON pointer into the set.
    pub fn problems(&self) -> Vec<crate::FieldProblem> {
        let mut problems = Vec::new();
        let mut push = |i: usize, field: &str, message: String| {
            problems.push(crate::FieldProblem { pointer: format!("/rules/{i}/{field}"), message })
        };
        let mut seen = BTreeSet::new();
        for (i, r) in self.rules.iter().enumerate() {
            match (stage_number(r.after), stage_number(r.expect)) {
                (Some((fa, a)), Some((fe, e))) if fa == fe && a < e => {}
                (Some(_), Some(_)) => push(i, "expect", "must be a later stage of the same flow".into()),
                _ => push(i, "after", "a stage of a flow is required".into()),
            }
            if !(1..=Self::MAX_HOURS).contains(&r.within_hours) {
                push(i, "within_hours", format!("between 1 and {} hours", Self::MAX_HOURS));
            }
            // One expectation per expected milestone: a transaction waits
            // for it once, whatever started the wait.
            if !seen.insert(r.expect) {
                push(i, "expect", "this milestone is already expected by another line".into());
            }
        }
        problems
    }

    /// The expectations a milestone starts.
    pub fn after(&self, m: MilestoneKind) -> impl Iterator<Item = &ExpectationRule> {
        self.rules.iter().filter(move |r| r.after == m)
    }
}

impl ExpectationRule {
    /// When the expected milestone is due, counted from `since` on the site's
    /// calendar (or around the clock).
    pub fn due(&self, since: DateTime<Utc>, calendar: Option<&BusinessCalendar>) -> Option<DateTime<Utc>> {
        let minutes = i64::from(self.within_hours) * 60;
        match calendar.filter(|_| self.business_hours) {
            Some(c) => c.add_minutes(since, minutes),
            None => since.checked_add_signed(chrono::Duration::minutes(minutes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_are_checked_and_count_business_hours() {
        use MilestoneKind as M;
        assert!(ExpectationSet::standard().problems().is_empty());
        let bad = ExpectationSet {
            rules: vec![
                ExpectationRule {
                    after: M::ReceiptPosted,
                    expect: M::PoCreated,
                    within_hours: 8,
                    business_hours: true,
                },
                ExpectationRule {
                    after: M::PoCreated,
                    expect: M::InvoicePosted,
                    within_hours: 0,
                    business_hours: true,
                },
            ],
        };
        let pointers: Vec<String> = bad.problems().into_iter().map(|p| p.pointer).collect();
        assert_eq!(pointers, ["/rules/0/expect", "/rules/1/expect", "/rules/1/within_hours"]);
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 27, 12, 0, 0).unwrap();
        let rule = ExpectationSet::standard().rules[2];
        assert_eq!(rule.due(t, None), Some(t + chrono::Duration::hours(72)));
    }
}
