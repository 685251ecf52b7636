//! The SLA board: every queue's (or site's, or person's) load and SLA state
//! at one instant, today's work counted in the row's own time zone, and the
//! week's median business times. Each cell names the queue view that lists
//! exactly what it counts.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::Status;
use crate::named_enum;
use crate::sla::SlaState;
use crate::triage::{AssigneeFilter, QueueFilter};

named_enum! {
    /// What one row of the board stands for.
    pub enum BoardGrouping ("board grouping") {
        Queue => "queue",
        Site => "site",
        Assignee => "assignee",
    }
}

named_enum! {
    /// The columns of the board, in the order they are shown.
    pub enum BoardColumn ("board column") {
        Open => "open",
        Unassigned => "unassigned",
        OnTrack => "on_track",
        AtRisk => "at_risk",
        Breached => "breached",
        /// Waiting on an outside party: the resolve clock is paused.
        Waiting => "waiting",
        /// Business age of the oldest breach still open.
        OldestBreach => "oldest_breach",
        OpenedToday => "opened_today",
        ResolvedToday => "resolved_today",
        /// Median business time to acknowledge over the last seven days.
        MedianAcknowledge => "median_ack",
        /// Median business time to resolve over the last seven days.
        MedianResolve => "median_resolve",
    }
}

impl BoardColumn {
    pub const fn label(self) -> &'static str {
        match self {
            BoardColumn::Open => "Open",
            BoardColumn::Unassigned => "Unassigned",
            BoardColumn::OnTrack => "On track",
            BoardColumn::AtRisk => "At risk",
            BoardColumn::Breached => "Breached",
            BoardColumn::Waiting => "Waiting",
            BoardColumn::OldestBreach => "Oldest breach",
            BoardColumn::OpenedToday => "Opened today",
            BoardColumn::ResolvedToday => "Resolved today",
            BoardColumn::MedianAcknowledge => "Median to acknowledge (7 days)",
            BoardColumn::MedianResolve => "Median to resolve (7 days)",
        }
    }

    /// Columns that count exceptions (the others are times).
    pub const fn is_count(self) -> bool {
        !matches!(self, BoardColumn::OldestBreach | BoardColumn::MedianAcknowledge | BoardColumn::MedianResolve)
    }
}

/// How far back the medians look.
pub const MEDIAN_DAYS: i64 = 7;

/// One row of the board.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardRow {
    /// The queue key, site code or user name; `None` for the unassigned row.
    pub key: Option<String>,
    pub label: String,
    /// The time zone "today" is counted in.
    pub zone: String,
    pub day_start: DateTime<Utc>,
    pub open: i64,
    pub unassigned: i64,
    pub on_track: i64,
    pub at_risk: i64,
    pub breached: i64,
    pub waiting: i64,
    /// When the oldest breach still open fell due.
    pub oldest_breach: Option<DateTime<Utc>>,
    pub opened_today: i64,
    pub resolved_today: i64,
    pub median_ack_seconds: Option<i64>,
    pub median_resolve_seconds: Option<i64>,
}

impl BoardRow {
    /// A cell's value as compared between refreshes: a count, or seconds.
    pub fn value(&self, column: BoardColumn, at: DateTime<Utc>) -> Option<i64> {
        Some(match column {
            BoardColumn::Open => self.open,
            BoardColumn::Unassigned => self.unassigned,
            BoardColumn::OnTrack => self.on_track,
            BoardColumn::AtRisk => self.at_risk,
            BoardColumn::Breached => self.breached,
            BoardColumn::Waiting => self.waiting,
            BoardColumn::OldestBreach => return self.oldest_breach.map(|due| (at - due).num_seconds().max(0)),
            BoardColumn::OpenedToday => self.opened_today,
            BoardColumn::ResolvedToday => self.resolved_today,
            BoardColumn::MedianAcknowledge => return self.median_ack_seconds,
            BoardColumn::MedianResolve => return self.median_resolve_seconds,
        })
    }
}

/// The board at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    pub grouping: BoardGrouping,
    pub at: DateTime<Utc>,
    pub rows: Vec<BoardRow>,
}

impl Board {
    /// The queue view listing what a cell counts; none for the unassigned
    /// count of a person, which is always nought.
    pub fn cell_filter(&self, row: &BoardRow, column: BoardColumn) -> Option<QueueFilter> {
        if self.grouping == BoardGrouping::Assignee && row.key.is_some() && column == BoardColumn::Unassigned {
            return None;
        }
        let mut filter = QueueFilter::default();
        match (self.grouping, &row.key) {
            (BoardGrouping::Queue, Some(key)) => filter.queues.push(key.clone()),
            (BoardGrouping::Site, Some(key)) => filter.sites.push(key.clone()),
            (BoardGrouping::Assignee, Some(key)) => filter.assignee = AssigneeFilter::Person(key.clone()),
            (BoardGrouping::Assignee, None) => filter.assignee = AssigneeFilter::Unassigned,
            (_, None) => {}
        }
        let week_start = self.at - Duration::days(MEDIAN_DAYS);
        match column {
            BoardColumn::Open => {}
            BoardColumn::Unassigned => filter.assignee = AssigneeFilter::Unassigned,
            BoardColumn::OnTrack => filter.sla.push(SlaState::OnTrack),
            BoardColumn::AtRisk => filter.sla.push(SlaState::AtRisk),
            BoardColumn::Breached | BoardColumn::OldestBreach => filter.sla.push(SlaState::Breached),
            BoardColumn::Waiting => filter.statuses.push(Status::Waiting),
            BoardColumn::OpenedToday => {
                filter.statuses = Status::ALL.to_vec();
                filter.opened_since = Some(row.day_start);
                filter.sort = Some(crate::triage::SortOrder::Age);
            }
            BoardColumn::ResolvedToday => {
                filter.statuses.push(Status::Resolved);
                filter.closed_since = Some(row.day_start);
            }
            BoardColumn::MedianAcknowledge => {
                filter.statuses = Status::ALL.to_vec();
                filter.acked_since = Some(week_start);
            }
            BoardColumn::MedianResolve => {
                filter.statuses.push(Status::Resolved);
                filter.closed_since = Some(week_start);
            }
        }
        Some(filter)
    }

    /// The cells whose value differs from the board before (rows new since
    /// then count as changed in every cell).
    pub fn changes_from(&self, before: &Board) -> Vec<(Option<String>, BoardColumn)> {
        if before.grouping != self.grouping {
            return Vec::new();
        }
        let old: BTreeMap<&Option<String>, &BoardRow> = before.rows.iter().map(|r| (&r.key, r)).collect();
        let mut changed = Vec::new();
        for row in &self.rows {
            for column in BoardColumn::ALL {
                // Ages grow with the clock: only a new or cleared breach is a change.
                let differs = match old.get(&row.key) {
                    None => true,
                    Some(prev) if *column == BoardColumn::OldestBreach => prev.oldest_breach != row.oldest_breach,
                    Some(prev) => prev.value(*column, before.at) != row.value(*column, self.at),
                };
                if differs {
                    changed.push((row.key.clone(), *column));
                }
            }
        }
        changed
    }
}

/// Where the board reads the time zone of each row's "today".
#[derive(Debug, Clone, Default)]
pub struct BoardZones {
    pub queues: BTreeMap<String, Tz>,
    pub sites: BTreeMap<String, Tz>,
    /// For rows of people, and anything not configured.
    pub home: Option<Tz>,
}

impl BoardZones {
    fn of(&self, grouping: BoardGrouping, key: Option<&str>) -> Tz {
        let map = match grouping {
            BoardGrouping::Queue => Some(&self.queues),
            BoardGrouping::Site => Some(&self.sites),
            BoardGrouping::Assignee => None,
        };
        map.and_then(|m| key.and_then(|k| m.get(k)).copied()).or(self.home).unwrap_or(Tz::UTC)
    }
}

/// Midnight of `at`'s day in `zone` (the first instant of the day when a
/// clock change skips midnight).
pub fn start_of_day(zone: Tz, at: DateTime<Utc>) -> DateTime<Utc> {
    let date = at.with_timezone(&zone).date_naive();
    (0..=3)
        .find_map(|h| zone.from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(h, 0, 0)?)).earliest())
        .map_or(at, |t| t.with_timezone(&Utc))
}

/// A duration as the board shows it: `45 min`, `2 h 05 min`, `3 d 4 h`.
pub fn span(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) if seconds < 60 => format!("{} s", seconds.max(0)),
        (0, 0) => format!("{mins} min"),
        (0, h) => format!("{h} h {mins:02} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// The median of some durations, the lower middle of an even count.
pub fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mid = (values.len() - 1) / 2;
    let (_, m, _) = values.select_nth_unstable(mid);
    Some(*m)
}

/// Where the open exceptions of one queue, site and person stand now, in
/// the SLA states of the queue view's filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenTally {
    pub queue: String,
    pub site: String,
    pub assignee: Option<String>,
    pub open: i64,
    pub on_track: i64,
    pub at_risk: i64,
    pub breached: i64,
    /// Clocks stopped while waiting (within their target).
    pub paused: i64,
    pub waiting: i64,
}

impl crate::triage::QueueCounts {
    /// The counts beside a queue view, from the tallies in reach: open per
    /// queue, and per SLA state (the states that hold any).
    pub fn of<'a>(tallies: impl IntoIterator<Item = &'a OpenTally>) -> Self {
        let mut by_queue: BTreeMap<&str, i64> = BTreeMap::new();
        let mut by_sla: BTreeMap<SlaState, i64> = BTreeMap::new();
        for t in tallies {
            *by_queue.entry(t.queue.as_str()).or_default() += t.open;
            for (state, n) in [
                (SlaState::OnTrack, t.on_track),
                (SlaState::AtRisk, t.at_risk),
                (SlaState::Breached, t.breached),
                (SlaState::Paused, t.paused),
            ] {
                *by_sla.entry(state).or_default() += n;
            }
        }
        Self {
            by_queue: by_queue.into_iter().filter(|(_, n)| *n > 0).map(|(q, n)| (q.to_string(), n)).collect(),
            by_sla: by_sla.into_iter().filter(|(_, n)| *n > 0).collect(),
        }
    }
}

/// One exception that was opened, acknowledged or closed recently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dated {
    pub at: DateTime<Utc>,
    pub queue: String,
    pub site: String,
    pub assignee: Option<String>,
    /// Business seconds it took, when known.
    pub seconds: Option<i64>,
    /// For closings: resolved (not dismissed).
    pub resolved: bool,
}

/// What the board is assembled from.
#[derive(Debug, Clone, Default)]
pub struct BoardInputs {
    pub open: Vec<OpenTally>,
    /// Opened since each "today" of [`day_starts`].
    pub opened: Vec<SinceCount>,
    /// Resolved (and still resolved) since each "today" of [`day_starts`].
    pub resolved: Vec<SinceCount>,
    /// The week's medians per row, from [`medians`].
    pub medians: Medians,
    /// When the earliest breach still open fell due, per row key.
    pub earliest_breach: BTreeMap<Option<String>, DateTime<Utc>>,
}

/// How many exceptions of one queue, site and person did something since
/// the start of a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinceCount {
    pub since: DateTime<Utc>,
    pub queue: String,
    pub site: String,
    pub assignee: Option<String>,
    pub count: i64,
}

/// Median business seconds to acknowledge and to resolve, per row key.
pub type Medians = BTreeMap<Option<String>, (Option<i64>, Option<i64>)>;

/// The row an exception falls in.
fn row_key(grouping: BoardGrouping, queue: &str, site: &str, assignee: &Option<String>) -> Option<String> {
    match grouping {
        BoardGrouping::Queue => Some(queue.to_owned()),
        BoardGrouping::Site => Some(site.to_owned()),
        BoardGrouping::Assignee => assignee.clone(),
    }
}

/// The medians of each row over what was acknowledged, and resolved, since
/// the start of the median week (the inputs reach back no further).
pub fn medians(grouping: BoardGrouping, acknowledged: &[Dated], closed: &[Dated]) -> Medians {
    let mut times: BTreeMap<Option<String>, (Vec<i64>, Vec<i64>)> = BTreeMap::new();
    for d in acknowledged {
        if let Some(s) = d.seconds {
            times.entry(row_key(grouping, &d.queue, &d.site, &d.assignee)).or_default().0.push(s);
        }
    }
    for d in closed.iter().filter(|d| d.resolved) {
        if let Some(s) = d.seconds {
            times.entry(row_key(grouping, &d.queue, &d.site, &d.assignee)).or_default().1.push(s);
        }
    }
    times.into_iter().map(|(key, (mut ack, mut resolve))| (key, (median(&mut ack), median(&mut resolve)))).collect()
}

/// Where the median week starts.
pub fn week_start(at: DateTime<Utc>) -> DateTime<Utc> {
    at - Duration::days(MEDIAN_DAYS)
}

/// Every row's "today" starts at one of these: midnight in each zone the
/// board knows, and in UTC.
pub fn day_starts(zones: &BoardZones, at: DateTime<Utc>) -> BTreeSet<DateTime<Utc>> {
    let all = zones.queues.values().chain(zones.sites.values()).chain(zones.home.iter()).copied();
    all.chain([Tz::UTC]).map(|z| start_of_day(z, at)).collect()
}

/// The rows being assembled, each made when first named.
struct Rows<'a> {
    rows: BTreeMap<Option<String>, BoardRow>,
    grouping: BoardGrouping,
    at: DateTime<Utc>,
    keys: &'a [(String, String)],
    zones: &'a BoardZones,
}

impl Rows<'_> {
    fn get(&mut self, key: Option<String>) -> &mut BoardRow {
        let Rows { rows, grouping, at, keys, zones } = self;
        rows.entry(key.clone()).or_insert_with(|| {
            let zone = zones.of(*grouping, key.as_deref());
            let label = match &key {
                Some(k) => keys.iter().find(|(kk, _)| kk == k).map_or_else(|| k.clone(), |(_, l)| l.clone()),
                None => "Unassigned".to_owned(),
            };
            BoardRow {
                key,
                label,
                zone: zone.name().to_owned(),
                day_start: start_of_day(zone, *at),
                ..Default::default()
            }
        })
    }
}

/// Folds the inputs into rows: `keys` are the rows shown even when empty
/// (every queue, every site), with their labels.
pub fn assemble(
    grouping: BoardGrouping,
    at: DateTime<Utc>,
    keys: &[(String, String)],
    zones: &BoardZones,
    inputs: BoardInputs,
) -> Board {
    let key_of = |queue: &str, site: &str, assignee: &Option<String>| row_key(grouping, queue, site, assignee);
    let mut rows = Rows { rows: BTreeMap::new(), grouping, at, keys, zones };
    for (key, _) in keys {
        rows.get(Some(key.clone()));
    }
    for t in inputs.open {
        let r = rows.get(key_of(&t.queue, &t.site, &t.assignee));
        r.open += t.open;
        if t.assignee.is_none() {
            r.unassigned += t.open;
        }
        r.waiting += t.waiting;
        r.on_track += t.on_track;
        r.at_risk += t.at_risk;
        r.breached += t.breached;
    }
    for (key, due) in inputs.earliest_breach {
        rows.get(key).oldest_breach = Some(due);
    }
    for c in inputs.opened {
        let r = rows.get(key_of(&c.queue, &c.site, &c.assignee));
        if c.since == r.day_start {
            r.opened_today += c.count;
        }
    }
    for c in inputs.resolved {
        let r = rows.get(key_of(&c.queue, &c.site, &c.assignee));
        if c.since == r.day_start {
            r.resolved_today += c.count;
        }
    }
    for (key, (ack, resolve)) in inputs.medians {
        let r = rows.get(key);
        r.median_ack_seconds = ack;
        r.median_resolve_seconds = resolve;
    }
    let mut rows: Vec<BoardRow> = rows.rows.into_values().collect();
    // People in name order, the unassigned row first; queues and sites by key.
    rows.sort_by(|a, b| (a.key.is_some(), &a.key).cmp(&(b.key.is_some(), &b.key)));
    Board { grouping, at, rows }
}

#[cfg(test)]
mod tests;
