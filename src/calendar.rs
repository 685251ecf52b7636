//! Business calendars: weekly working hours in a site's time zone, holidays,
//! overnight shifts and 24x7, and business-time arithmetic that stays right
//! across daylight-saving changes.
//!
//! Business time is the physical time elapsed inside working intervals. A
//! shift belongs to the local day it starts on; a holiday closes the shifts
//! that start on it. Local times that do not exist (the spring-forward gap)
//! move to the first instant after the gap; local times that happen twice
//! (fall back) open a shift at the earlier and close it at the later one.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::FieldProblem;

const DAY_MINUTES: u16 = 1440;
const WEEK_MINUTES: u32 = 7 * 1440;
/// How far ahead the arithmetic looks for working time before giving up.
const HORIZON_DAYS: i64 = 3660;

/// A calendar as admins write it and the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSpec {
    /// IANA time zone of the site, e.g. `America/Chicago`.
    pub time_zone: String,
    pub hours: HoursSpec,
    /// Local dates on which no shift starts.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

/// Working hours of a week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HoursSpec {
    /// Open around the clock, every day.
    #[serde(rename = "24x7")]
    AlwaysOpen,
    /// Open during these shifts.
    Weekly { shifts: Vec<ShiftSpec> },
}

/// One shift as written: `mon 08:00-17:00`, or `fri 22:00-06:00 overnight`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftSpec {
    /// `mon` .. `sun`.
    pub day: String,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`; `24:00` ends at midnight. With `overnight`, the time on the next day.
    pub end: String,
    #[serde(default)]
    pub overnight: bool,
}

/// A validated shift, in minutes of the local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shift {
    day: Weekday,
    start: u16,
    end: u16,
    overnight: bool,
}

impl Shift {
    fn minutes(self) -> u32 {
        if self.overnight { u32::from(DAY_MINUTES - self.start + self.end) } else { u32::from(self.end - self.start) }
    }
}

/// A validated business calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    tz: Tz,
    /// Shifts indexed by weekday (Monday first), each day sorted by start.
    shifts: [Vec<Shift>; 7],
    holidays: BTreeSet<NaiveDate>,
    always_open: bool,
}

fn parse_day(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// `HH:MM` as minutes of the day; `24:00` only when `allow_midnight_end`.
fn parse_hhmm(s: &str, allow_midnight_end: bool) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if allow_midnight_end => Some(DAY_MINUTES),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn problem(pointer: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem { pointer: pointer.into(), message: message.into() }
}

impl BusinessCalendar {
    /// Open around the clock in UTC, with no holidays.
    pub fn always_open_utc() -> Self {
        Self::from_spec(&CalendarSpec { time_zone: "UTC".into(), hours: HoursSpec::AlwaysOpen, holidays: Vec::new() })
            .unwrap_or_else(|_| unreachable!("the UTC 24x7 calendar is valid"))
    }

    /// Validates a spec, reporting every problem with the pointer of its field.
    pub fn from_spec(spec: &CalendarSpec) -> Result<Self, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let tz = spec.time_zone.parse::<Tz>().map_err(|_| {
            problems.push(problem("/time_zone", format!("`{}` is not an IANA time zone", spec.time_zone)))
        });
        let mut shifts: [Vec<Shift>; 7] = Default::default();
        let always_open = matches!(spec.hours, HoursSpec::AlwaysOpen);
        match &spec.hours {
            HoursSpec::AlwaysOpen => {
                for day in &mut shifts {
                    day.push(Shift { day: Weekday::Mon, start: 0, end: DAY_MINUTES, overnight: false });
                }
                for (i, day) in shifts.iter_mut().enumerate() {
                    day[0].day = weekday(i);
                }
            }
            HoursSpec::Weekly { shifts: specs } => {
                if specs.is_empty() {
                    problems.push(problem("/hours/shifts", "at least one shift is needed"));
                }
                let mut valid: Vec<(usize, Shift)> = Vec::new();
                for (i, s) in specs.iter().enumerate() {
                    let at = |field: &str| format!("/hours/shifts/{i}/{field}");
                    let day = parse_day(&s.day);
                    if day.is_none() {
                        problems.push(problem(at("day"), "must be a weekday: mon, tue, wed, thu, fri, sat or sun"));
                    }
                    let start = parse_hhmm(&s.start, false);
                    if start.is_none() {
                        problems.push(problem(at("start"), "must be a time of day as HH:MM"));
                    }
                    let end = parse_hhmm(&s.end, !s.overnight);
                    if end.is_none() {
                        problems.push(problem(at("end"), "must be a time of day as HH:MM (24:00 for midnight)"));
                    }
                    let (Some(day), Some(start), Some(end)) = (day, start, end) else {
                        continue;
                    };
                    if !s.overnight && end <= start {
                        problems.push(problem(
                            at("end"),
                            "ends before it starts; mark the shift overnight if it ends the next day",
                        ));
                        continue;
                    }
                    if s.overnight && end > start {
                        problems.push(problem(
                            at("end"),
                            "an overnight shift must end the next day, before it starts again",
                        ));
                        continue;
                    }
                    valid.push((i, Shift { day, start, end, overnight: s.overnight }));
                }
                problems.extend(overlaps(&valid));
                for (_, shift) in valid {
                    shifts[shift.day.num_days_from_monday() as usize].push(shift);
                }
                for day in &mut shifts {
                    day.sort_by_key(|s| s.start);
                }
            }
        }
        let mut holidays = BTreeSet::new();
        for (i, date) in spec.holidays.iter().enumerate() {
            if !holidays.insert(*date) {
                problems.push(problem(format!("/holidays/{i}"), format!("{date} is listed twice")));
            }
        }
        match tz {
            Ok(tz) if problems.is_empty() => Ok(Self { tz, shifts, holidays, always_open }),
            _ => Err(problems),
        }
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Working minutes in a week without holidays.
    pub fn weekly_minutes(&self) -> u32 {
        self.shifts.iter().flatten().map(|s| s.minutes()).sum()
    }

    fn is_plain_24x7(&self) -> bool {
        self.always_open && self.holidays.is_empty()
    }

    /// Working intervals (merged, ascending, in UTC) that end after `from`.
    fn intervals_from(&self, from: DateTime<Utc>) -> Intervals<'_> {
        let first_day = from.with_timezone(&self.tz).date_naive() - Duration::days(1);
        Intervals {
            calendar: self,
            from,
            day: first_day,
            last_day: first_day + Duration::days(HORIZON_DAYS),
            queue: Vec::new(),
            pending: None,
        }
    }

    /// True when `t` falls inside working time.
    pub fn is_working(&self, t: DateTime<Utc>) -> bool {
        self.intervals_from(t).next().is_some_and(|(s, _)| s <= t)
    }

    /// The instant `seconds` of business time after `t`; `None` when the
    /// calendar has no working time within ten years.
    pub fn add_seconds(&self, t: DateTime<Utc>, seconds: i64) -> Option<DateTime<Utc>> {
        if seconds <= 0 {
            return Some(t);
        }
        if self.is_plain_24x7() {
            return t.checked_add_signed(Duration::seconds(seconds));
        }
        let mut left = seconds;
        for (s, e) in self.intervals_from(t) {
            let start = s.max(t);
            let available = (e - start).num_seconds();
            if left <= available {
                return Some(start + Duration::seconds(left));
            }
            left -= available;
        }
        None
    }

    /// The instant `minutes` of business time after `t`.
    pub fn add_minutes(&self, t: DateTime<Utc>, minutes: i64) -> Option<DateTime<Utc>> {
        self.add_seconds(t, minutes.saturating_mul(60))
    }

    /// Business seconds from `a` to `b`; negative when `b` is before `a`.
    pub fn seconds_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        if b < a {
            return -self.seconds_between(b, a);
        }
        if self.is_plain_24x7() {
            return (b - a).num_seconds();
        }
        let mut total = 0;
        for (s, e) in self.intervals_from(a) {
            if s >= b {
                break;
            }
            total += (e.min(b) - s.max(a)).num_seconds();
        }
        total
    }

    /// Whole business minutes from `a` to `b`.
    pub fn minutes_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        self.seconds_between(a, b) / 60
    }

    /// The UTC instant of a local wall-clock time; see the module notes.
    fn resolve(&self, local: NaiveDateTime, earlier: bool) -> DateTime<Utc> {
        let mut probe = local;
        for _ in 0..=(24 * 60) {
            match self.tz.from_local_datetime(&probe) {
                LocalResult::Single(t) => return t.with_timezone(&Utc),
                LocalResult::Ambiguous(a, b) => {
                    let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
                    return if earlier { a.min(b) } else { a.max(b) };
                }
                LocalResult::None => probe += Duration::minutes(1),
            }
        }
        // No zone has a gap of a day; fall back to reading the time as UTC.
        Utc.from_utc_datetime(&local)
    }
}

fn weekday(index: usize) -> Weekday {
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun][index % 7]
}

/// Overlapping shifts, found on the week as a circle of minutes.
fn overlaps(shifts: &[(usize, Shift)]) -> Vec<FieldProblem> {
    let mut spans: Vec<(u32, u32, usize)> = Vec::new();
    for (i, s) in shifts {
        let start = s.day.num_days_from_monday() * u32::from(DAY_MINUTES) + u32::from(s.start);
        let end = start + s.minutes();
        if end > WEEK_MINUTES {
            spans.push((start, WEEK_MINUTES, *i));
            spans.push((0, end - WEEK_MINUTES, *i));
        } else {
            spans.push((start, end, *i));
        }
    }
    spans.sort();
    let mut problems = Vec::new();
    let mut reported = BTreeSet::new();
    for pair in spans.windows(2) {
        let ((_, a_end, a), (b_start, _, b)) = (pair[0], pair[1]);
        if b_start < a_end && a != b && reported.insert((a.min(b), a.max(b))) {
            problems.push(problem(format!("/hours/shifts/{}", a.max(b)), format!("overlaps shift {}", a.min(b) + 1)));
        }
    }
    problems
}

/// Iterator over working intervals in UTC.
struct Intervals<'a> {
    calendar: &'a BusinessCalendar,
    from: DateTime<Utc>,
    day: NaiveDate,
    last_day: NaiveDate,
    /// Intervals of the current day, in reverse order (next at the end).
    queue: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pending: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Intervals<'_> {
    /// The next raw interval, in order, before merging.
    fn next_raw(&mut self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        loop {
            if let Some(interval) = self.queue.pop() {
                return Some(interval);
            }
            if self.day > self.last_day {
                return None;
            }
            let day = self.day;
            self.day = day.succ_opt()?;
            if self.calendar.holidays.contains(&day) {
                continue;
            }
            let cal = self.calendar;
            let shifts = &cal.shifts[day.weekday().num_days_from_monday() as usize];
            let mut today = Vec::with_capacity(shifts.len());
            for s in shifts {
                let start = cal.resolve(day.and_time(minute_time(s.start)), true);
                let end_day = if s.overnight || s.end == DAY_MINUTES { day.succ_opt()? } else { day };
                let end = cal.resolve(end_day.and_time(minute_time(s.end % DAY_MINUTES)), false);
                if end > start {
                    today.push((start, end));
                }
            }
            today.reverse();
            self.queue = today;
        }
    }
}

fn minute_time(minutes: u16) -> NaiveTime {
    NaiveTime::from_hms_opt(u32::from(minutes / 60), u32::from(minutes % 60), 0).unwrap_or(NaiveTime::MIN)
}

impl Iterator for Intervals<'_> {
    type Item = (DateTime<Utc>, DateTime<Utc>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some((s, e)) = self.next_raw() else {
                let from = self.from;
                return self.pending.take().filter(|(_, e)| *e > from);
            };
            match self.pending {
                None => self.pending = Some((s, e)),
                // Touching or (after a clock change) overlapping: merge.
                Some((ps, pe)) if s <= pe => self.pending = Some((ps, pe.max(e))),
                Some(done) => {
                    self.pending = Some((s.max(done.1), e));
                    if done.1 > self.from {
                        return Some(done);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
