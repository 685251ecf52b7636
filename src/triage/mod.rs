//! Working the queues: the filters of a queue view (kept in the URL so a view
//! can be bookmarked), sort orders, keyset cursors, and the SLA snapshot a
//! list shows for an exception.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sla::{SlaSnapshot, SlaState};
use crate::{ExceptionKind, FieldProblem, Severity, Status, named_enum};

mod decide;

named_enum! {
    /// How a queue view is ordered.
    pub enum SortOrder ("sort order") {
        /// What breaches first, first (the default).
        SlaDue => "due",
        /// Most severe first, then by SLA due.
        Severity => "severity",
        /// Oldest first.
        Age => "age",
    }
}

/// Whose exceptions a view shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssigneeFilter {
    #[default]
    Anyone,
    Me,
    Unassigned,
    Person(String),
}

/// The filters of a queue view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueFilter {
    /// Queue keys; none means every queue in reach.
    pub queues: Vec<String>,
    /// Statuses; none means every open status (`status=open`, the default);
    /// every status is `status=any`.
    pub statuses: Vec<Status>,
    pub severities: Vec<Severity>,
    pub kinds: Vec<ExceptionKind>,
    pub sites: Vec<String>,
    pub supplier: Option<String>,
    pub assignee: AssigneeFilter,
    pub sla: Vec<SlaState>,
    /// A business key (PO, ASN, order, shipment, tracking, invoice, item...)
    /// or words of the summary.
    pub text: Option<String>,
    pub sort: Option<SortOrder>,
    /// Opened at or after this instant (`opened_since`, RFC 3339).
    pub opened_since: Option<DateTime<Utc>>,
    /// Acknowledged at or after this instant (`acked_since`).
    pub acked_since: Option<DateTime<Utc>>,
    /// Resolved or dismissed at or after this instant (`closed_since`).
    pub closed_since: Option<DateTime<Utc>>,
}

impl QueueFilter {
    pub const MAX_TEXT: usize = 200;
    pub const MAX_VALUES: usize = 50;

    /// The sort order, the default when none is chosen.
    pub fn sort(&self) -> SortOrder {
        self.sort.unwrap_or(SortOrder::SlaDue)
    }

    /// Whether every status is shown, closed ones included.
    pub fn any_status(&self) -> bool {
        Status::ALL.iter().all(|s| self.statuses.contains(s))
    }

    /// The statuses shown: those chosen, or every open one.
    pub fn effective_statuses(&self) -> Vec<Status> {
        if self.statuses.is_empty() {
            Status::ALL.iter().copied().filter(|s| s.is_open()).collect()
        } else {
            self.statuses.clone()
        }
    }

    /// Reads a URL query string (`queue=receiving&severity=high&q=PO-10045`).
    /// Every problem is reported, each at the name of its parameter.
    pub fn parse_query(query: &str) -> Result<Self, Vec<FieldProblem>> {
        let mut filter = QueueFilter::default();
        let mut problems = Vec::new();
        let mut problem =
            |name: &str, message: String| problems.push(FieldProblem { pointer: name.to_owned(), message });
        for (name, value) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            let value = value.trim().to_owned();
            if value.is_empty() {
                continue;
            }
            if value.chars().count() > Self::MAX_TEXT {
                problem(&name, format!("is longer than {} characters", Self::MAX_TEXT));
                continue;
            }
            if !crate::text::is_one_line(&value) {
                problem(&name, "must not contain control characters".to_owned());
                continue;
            }
            match name.as_ref() {
                "queue" => filter.queues.push(value),
                "status" => match value.as_str() {
                    "open" => {}
                    "any" => filter.statuses = Status::ALL.to_vec(),
                    _ => match value.parse() {
                        Ok(s) if !filter.statuses.contains(&s) && !filter.any_status() => filter.statuses.push(s),
                        Ok(_) => {}
                        Err(_) => problem("status", format!("`{value}` is not a status")),
                    },
                },
                "severity" => match value.parse() {
                    Ok(s) => filter.severities.push(s),
                    Err(_) => problem("severity", format!("`{value}` is not a severity")),
                },
                "type" => match value.parse() {
                    Ok(k) => filter.kinds.push(k),
                    Err(_) => problem("type", format!("`{value}` is not an exception type")),
                },
                "site" => filter.sites.push(value),
                "supplier" => filter.supplier = Some(value),
                "assignee" => {
                    filter.assignee = match value.as_str() {
                        "me" => AssigneeFilter::Me,
                        "none" => AssigneeFilter::Unassigned,
                        "anyone" => AssigneeFilter::Anyone,
                        _ => AssigneeFilter::Person(value.to_ascii_lowercase()),
                    }
                }
                "sla" => match value.parse() {
                    Ok(s) => filter.sla.push(s),
                    Err(_) => problem("sla", format!("`{value}` is not an SLA state")),
                },
                "q" => filter.text = Some(value),
                "sort" => match value.parse() {
                    Ok(s) => filter.sort = Some(s),
                    Err(_) => problem("sort", "sort by due, severity or age".to_owned()),
                },
                "opened_since" | "acked_since" | "closed_since" => match DateTime::parse_from_rfc3339(&value) {
                    Ok(t) => {
                        let t = Some(t.with_timezone(&Utc));
                        match name.as_ref() {
                            "opened_since" => filter.opened_since = t,
                            "acked_since" => filter.acked_since = t,
                            _ => filter.closed_since = t,
                        }
                    }
                    Err(_) => problem(&name, "is not a time such as 2026-12-02T06:00:00+01:00".to_owned()),
                },
                // Unknown parameters (a cursor, a tracking tag) are not filters.
                _ => {}
            }
        }
        let lists = [
            filter.queues.len(),
            filter.statuses.len(),
            filter.severities.len(),
            filter.kinds.len(),
            filter.sites.len(),
        ];
        if lists.iter().any(|n| *n > Self::MAX_VALUES) {
            problem("query", format!("at most {} values of one filter", Self::MAX_VALUES));
        }
        if problems.is_empty() { Ok(filter) } else { Err(problems) }
    }

    /// The URL query string of this filter (without `?`).
    pub fn to_query(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for q in &self.queues {
            out.append_pair("queue", q);
        }
        if self.any_status() {
            out.append_pair("status", "any");
        } else {
            for s in &self.statuses {
                out.append_pair("status", s.as_str());
            }
        }
        for s in &self.severities {
            out.append_pair("severity", s.as_str());
        }
        for k in &self.kinds {
            out.append_pair("type", k.as_str());
        }
        for s in &self.sites {
            out.append_pair("site", s);
        }
        if let Some(s) = &self.supplier {
            out.append_pair("supplier", s);
        }
        match &self.assignee {
            AssigneeFilter::Anyone => {}
            AssigneeFilter::Me => {
                out.append_pair("assignee", "me");
            }
            AssigneeFilter::Unassigned => {
                out.append_pair("assignee", "none");
            }
            AssigneeFilter::Person(p) => {
                out.append_pair("assignee", p);
            }
        }
        for s in &self.sla {
            out.append_pair("sla", s.as_str());
        }
        if let Some(q) = &self.text {
            out.append_pair("q", q);
        }
        if let Some(sort) = self.sort {
            out.append_pair("sort", sort.as_str());
        }
        for (name, since) in [
            ("opened_since", self.opened_since),
            ("acked_since", self.acked_since),
            ("closed_since", self.closed_since),
        ] {
            if let Some(t) = since {
                out.append_pair(name, &t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
            }
        }
        out.finish()
    }
}

/// Where the next page of a queue view starts: the sort key and id of the
/// last row shown (keyset pagination).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub keys: [i64; 2],
    pub id: i64,
}

impl Cursor {
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<i64> = s.split('.').map(|p| p.parse().ok()).collect::<Option<_>>()?;
        match parts.as_slice() {
            [a, b, id] => Some(Cursor { keys: [*a, *b], id: *id }),
            _ => None,
        }
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.keys[0], self.keys[1], self.id)
    }
}

/// The one SLA snapshot a list shows for an exception: the running clock that
/// is due first; with none running, the resolve clock's state.
pub fn effective_sla(acknowledge: SlaSnapshot, resolve: SlaSnapshot) -> SlaSnapshot {
    let running = [acknowledge, resolve].into_iter().filter(|s| s.frozen.is_none() && s.due_at.is_some());
    running.min_by_key(|s| s.due_at).unwrap_or(resolve)
}

/// Sort weight of a severity: most severe first.
pub const fn severity_order(s: Severity) -> i64 {
    match s {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_query_string_reads_into_a_filter_and_back() {
        let query = "queue=receiving&queue=billing&status=new&severity=high&type=exception.partial_receipt\
                     &site=DC-ATL&supplier=SUP-017&assignee=me&sla=breached&q=PO+10045&sort=severity";
        let filter = QueueFilter::parse_query(query).unwrap();
        assert_eq!(filter.queues, vec!["receiving", "billing"]);
        assert_eq!(filter.statuses, vec![Status::New]);
        assert_eq!(filter.assignee, AssigneeFilter::Me);
        assert_eq!(filter.text.as_deref(), Some("PO 10045"));
        assert_eq!(filter.sort(), SortOrder::Severity);
        assert_eq!(QueueFilter::parse_query(&filter.to_query()).unwrap(), filter);
    }

    #[test]
    fn since_filters_read_any_offset_and_write_utc() {
        let filter = QueueFilter::parse_query("closed_since=2026-12-02T06:00:00%2B01:00&status=resolved").unwrap();
        assert_eq!(filter.closed_since, Some(Utc.with_ymd_and_hms(2026, 12, 2, 5, 0, 0).unwrap()));
        assert_eq!(QueueFilter::parse_query(&filter.to_query()).unwrap(), filter);
        let problems = QueueFilter::parse_query("opened_since=yesterday").unwrap_err();
        assert_eq!(problems[0].pointer, "opened_since");
    }

    #[test]
    fn bad_values_are_reported_by_parameter() {
        let problems = QueueFilter::parse_query("status=lost&severity=meh&sla=late&sort=random&type=x").unwrap_err();
        let names: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(names, vec!["status", "severity", "sla", "sort", "type"]);
    }

    #[test]
    fn any_status_means_closed_ones_too_and_open_is_the_default() {
        let any = QueueFilter::parse_query("status=any&q=PO-10052").unwrap();
        assert!(any.any_status());
        assert_eq!(any.effective_statuses().len(), Status::ALL.len());
        assert_eq!(QueueFilter::parse_query(&any.to_query()).unwrap(), any);
        let open = QueueFilter::parse_query("status=open").unwrap();
        assert_eq!(open, QueueFilter::default());
        assert_eq!(open.effective_statuses().len(), 4);
    }

    #[test]
    fn no_status_means_every_open_one() {
        let open = QueueFilter::default().effective_statuses();
        assert!(open.iter().all(|s| s.is_open()));
        assert_eq!(open.len(), 4);
    }

    #[test]
    fn the_effective_sla_is_the_running_clock_due_first() {
        let t = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let ack = SlaSnapshot { frozen: None, due_at: Some(t), at_risk_at: Some(t - Duration::minutes(5)) };
        let resolve = SlaSnapshot { frozen: None, due_at: Some(t + Duration::hours(4)), at_risk_at: None };
        assert_eq!(effective_sla(ack, resolve), ack);
        let met = SlaSnapshot { frozen: Some(SlaState::Met), ..ack };
        assert_eq!(effective_sla(met, resolve), resolve);
        let paused = SlaSnapshot { frozen: Some(SlaState::Paused), due_at: None, at_risk_at: None };
        assert_eq!(effective_sla(met, paused), paused);
    }

    proptest! {
        #[test]
        fn any_query_string_parses_or_reports_without_panicking(query in ".{0,200}") {
            let _ = QueueFilter::parse_query(&query);
        }

        #[test]
        fn cursors_round_trip(a in any::<i64>(), b in any::<i64>(), id in any::<i64>()) {
            let c = Cursor { keys: [a, b], id };
            prop_assert_eq!(Cursor::parse(&c.to_string()), Some(c));
        }
    }
}

/// One page of a queue view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePage {
    pub items: Vec<crate::ExceptionListItem>,
    /// Where the next page starts, when there is one.
    pub next: Option<Cursor>,
}

/// How many open exceptions are in reach, per queue and per SLA state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    pub by_queue: Vec<(String, i64)>,
    pub by_sla: Vec<(SlaState, i64)>,
}

named_enum! {
    /// What became of one exception of a bulk action.
    pub enum BulkOutcome ("bulk outcome") {
        Done => "done",
        /// Its status does not allow the action.
        Skipped => "skipped",
        /// The actor's role or queues do not allow it.
        Refused => "refused",
        Failed => "failed",
    }
}

/// One exception of a bulk action and what became of it (nothing yet while
/// it waits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkItem {
    pub exception: crate::ExceptionId,
    pub outcome: Option<BulkOutcome>,
    pub message: Option<String>,
}

/// A bulk action's progress and, per exception, its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkJob {
    pub id: i64,
    /// The action's name, e.g. `claim`.
    pub action: String,
    pub total: i64,
    pub done: i64,
    pub finished: bool,
    pub items: Vec<BulkItem>,
}

pub use decide::{
    Candidate, Change, ChangeKind, Decision, Doer, ExceptionState, Refusal, Setting, TriageAction, decide, offered,
};
