use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn shift(day: &str, start: &str, end: &str) -> ShiftSpec {
    ShiftSpec { day: day.into(), start: start.into(), end: end.into(), overnight: false }
}

fn overnight(day: &str, start: &str, end: &str) -> ShiftSpec {
    ShiftSpec { overnight: true, ..shift(day, start, end) }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Office hours in Atlanta, with US holidays.
pub(crate) fn office_atlanta() -> BusinessCalendar {
    BusinessCalendar::from_spec(&CalendarSpec {
        time_zone: "America/New_York".into(),
        hours: HoursSpec::Weekly {
            shifts: ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| shift(d, "08:00", "17:00")).collect(),
        },
        holidays: vec![date(2026, 11, 26), date(2026, 12, 25), date(2027, 1, 1)],
    })
    .unwrap()
}

/// A Dallas DC working nights, with a Saturday day shift and a Sunday-night
/// shift that crosses the 2 a.m. clock changes.
fn nights_dallas() -> BusinessCalendar {
    let mut shifts: Vec<ShiftSpec> =
        ["sun", "mon", "tue", "wed", "thu"].iter().map(|d| overnight(d, "22:00", "06:00")).collect();
    shifts.push(shift("sat", "06:00", "14:00"));
    shifts.push(shift("sun", "01:15", "01:45"));
    shifts.push(shift("sun", "02:30", "03:30"));
    BusinessCalendar::from_spec(&CalendarSpec {
        time_zone: "America/Chicago".into(),
        hours: HoursSpec::Weekly { shifts },
        holidays: vec![date(2026, 12, 24)],
    })
    .unwrap()
}

fn around_the_clock_london() -> BusinessCalendar {
    BusinessCalendar::from_spec(&CalendarSpec {
        time_zone: "Europe/London".into(),
        hours: HoursSpec::AlwaysOpen,
        holidays: vec![date(2026, 12, 25)],
    })
    .unwrap()
}

/// Half-hour daylight saving, and business hours on the 24:00 boundary.
fn lord_howe() -> BusinessCalendar {
    BusinessCalendar::from_spec(&CalendarSpec {
        time_zone: "Australia/Lord_Howe".into(),
        hours: HoursSpec::Weekly {
            shifts: vec![
                shift("sun", "00:00", "24:00"),
                shift("mon", "01:00", "02:45"),
                shift("wed", "18:00", "24:00"),
            ],
        },
        holidays: vec![],
    })
    .unwrap()
}

fn plain_24x7() -> BusinessCalendar {
    BusinessCalendar::always_open_utc()
}

fn local(cal: &BusinessCalendar, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    cal.time_zone().with_ymd_and_hms(y, m, d, h, min, 0).earliest().unwrap().with_timezone(&Utc)
}

#[test]
fn friday_afternoon_plus_two_hours_is_monday_morning() {
    let cal = office_atlanta();
    let friday = local(&cal, 2026, 11, 20, 16, 0);
    assert_eq!(cal.add_minutes(friday, 120), Some(local(&cal, 2026, 11, 23, 9, 0)));
    assert_eq!(cal.minutes_between(friday, local(&cal, 2026, 11, 23, 9, 0)), 120);
}

#[test]
fn holidays_are_skipped() {
    let cal = office_atlanta();
    // Wednesday before Thanksgiving, 16:00 + 2h lands on Friday 09:00.
    let wednesday = local(&cal, 2026, 11, 25, 16, 0);
    assert_eq!(cal.add_minutes(wednesday, 120), Some(local(&cal, 2026, 11, 27, 9, 0)));
    assert!(!cal.is_working(local(&cal, 2026, 11, 26, 10, 0)));
}

#[test]
fn time_before_opening_starts_counting_at_opening() {
    let cal = office_atlanta();
    let early = local(&cal, 2026, 11, 23, 5, 30);
    assert_eq!(cal.add_minutes(early, 30), Some(local(&cal, 2026, 11, 23, 8, 30)));
    assert_eq!(cal.minutes_between(early, local(&cal, 2026, 11, 23, 8, 30)), 30);
}

#[test]
fn shifts_in_the_spring_gap_shrink_and_shifts_in_the_repeated_hour_grow() {
    let cal = nights_dallas();
    // Fall back on Sun 1 Nov 2026 (01:00-02:00 happens twice): Sat 12:00-14:00,
    // Sun 01:15-01:45 opening at the first 01:15 and closing at the second
    // 01:45 (90 min), Sun 02:30-03:30, Sun 22:00-Mon 06:00.
    let fall = local(&cal, 2026, 10, 31, 12, 0);
    assert_eq!(cal.minutes_between(fall, fall + Duration::hours(49)), 120 + 90 + 60 + 480);
    // Spring forward on Sun 14 Mar 2027 (02:00-03:00 does not exist): the
    // 02:30-03:30 shift runs 03:00-03:30.
    let spring = local(&cal, 2027, 3, 13, 12, 0);
    assert_eq!(cal.minutes_between(spring, spring + Duration::hours(47)), 120 + 30 + 30 + 480);
    let jump = local(&cal, 2027, 3, 14, 3, 0);
    assert!(cal.is_working(jump) && !cal.is_working(jump - Duration::seconds(1)));
}

#[test]
fn an_overnight_shift_over_the_clock_change_counts_physical_time() {
    let cal = BusinessCalendar::from_spec(&CalendarSpec {
        time_zone: "America/New_York".into(),
        hours: HoursSpec::Weekly { shifts: vec![overnight("sat", "22:00", "06:00")] },
        holidays: vec![],
    })
    .unwrap();
    let fall = local(&cal, 2026, 10, 31, 21, 0);
    assert_eq!(cal.minutes_between(fall, fall + Duration::hours(12)), 9 * 60);
    let spring = local(&cal, 2026, 3, 7, 21, 0);
    assert_eq!(cal.minutes_between(spring, spring + Duration::hours(12)), 7 * 60);
}

#[test]
fn around_the_clock_is_plain_time_except_on_holidays() {
    let cal = plain_24x7();
    let t = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    assert_eq!(cal.add_minutes(t, 90), Some(t + Duration::minutes(90)));
    let london = around_the_clock_london();
    let eve = local(&london, 2026, 12, 24, 23, 0);
    assert_eq!(london.add_minutes(eve, 120), Some(local(&london, 2026, 12, 26, 1, 0)));
}

#[test]
fn inverted_overlapping_and_unknown_values_are_refused_with_pointers() {
    let spec = CalendarSpec {
        time_zone: "Mars/Olympus_Mons".into(),
        hours: HoursSpec::Weekly {
            shifts: vec![
                shift("mon", "08:00", "17:00"),
                shift("mon", "16:00", "18:00"),
                shift("tue", "17:00", "08:00"),
                shift("funday", "25:00", "8"),
                overnight("sun", "22:00", "06:00"),
                shift("mon", "05:00", "07:00"),
            ],
        },
        holidays: vec![date(2026, 12, 25), date(2026, 12, 25)],
    };
    let problems = BusinessCalendar::from_spec(&spec).unwrap_err();
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    for expected in [
        "/time_zone",
        "/hours/shifts/1",
        "/hours/shifts/2/end",
        "/hours/shifts/3/day",
        "/hours/shifts/3/start",
        "/hours/shifts/3/end",
        "/hours/shifts/5",
        "/holidays/1",
    ] {
        assert!(pointers.contains(&expected), "{expected} in {problems:?}");
    }
}

#[test]
fn a_week_without_shifts_is_refused() {
    let spec = CalendarSpec { time_zone: "UTC".into(), hours: HoursSpec::Weekly { shifts: vec![] }, holidays: vec![] };
    assert_eq!(BusinessCalendar::from_spec(&spec).unwrap_err()[0].pointer, "/hours/shifts");
}

#[test]
fn the_spec_is_stored_as_readable_json() {
    let spec = CalendarSpec {
        time_zone: "America/Chicago".into(),
        hours: HoursSpec::Weekly { shifts: vec![overnight("fri", "22:00", "06:00")] },
        holidays: vec![date(2026, 12, 25)],
    };
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"time_zone": "America/Chicago",
            "hours": {"kind": "weekly", "shifts": [{"day": "fri", "start": "22:00", "end": "06:00", "overnight": true}]},
            "holidays": ["2026-12-25"]})
    );
    let always: CalendarSpec =
        serde_json::from_value(serde_json::json!({"time_zone": "UTC", "hours": {"kind": "24x7"}})).unwrap();
    assert_eq!(always.hours, HoursSpec::AlwaysOpen);
}

fn calendars() -> Vec<BusinessCalendar> {
    vec![office_atlanta(), nights_dallas(), around_the_clock_london(), lord_howe(), plain_24x7()]
}

/// Instants over 2026-2027, which hold two of each daylight-saving change.
fn arb_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap().timestamp();
    let end = Utc.with_ymd_and_hms(2027, 12, 31, 0, 0, 0).unwrap().timestamp();
    (start..end).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

/// Inside a working interval, or exactly at its close.
fn in_working_time(cal: &BusinessCalendar, t: DateTime<Utc>) -> bool {
    cal.is_working(t) || cal.is_working(t - Duration::seconds(1))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn adding_business_time_never_lands_outside_working_hours(
        which in 0usize..5, t in arb_instant(), n in 1i64..20_000
    ) {
        let cal = &calendars()[which];
        let due = cal.add_minutes(t, n).unwrap();
        prop_assert!(in_working_time(cal, due), "{} + {}min = {} is outside working hours", t, n, due);
    }

    #[test]
    fn adding_business_time_is_monotone(which in 0usize..5, t in arb_instant(), a in 0i64..20_000, b in 0i64..20_000) {
        let cal = &calendars()[which];
        let (lo, hi) = (a.min(b), a.max(b));
        let (x, y) = (cal.add_minutes(t, lo).unwrap(), cal.add_minutes(t, hi).unwrap());
        prop_assert!(x <= y);
        if lo < hi {
            prop_assert!(x < y);
        }
    }

    #[test]
    fn business_minutes_between_t_and_t_plus_n_is_n(which in 0usize..5, t in arb_instant(), n in 0i64..20_000) {
        let cal = &calendars()[which];
        let due = cal.add_minutes(t, n).unwrap();
        prop_assert_eq!(cal.minutes_between(t, due), n);
        prop_assert_eq!(cal.seconds_between(due, t), -n * 60);
    }

    #[test]
    fn business_time_is_additive(which in 0usize..5, t in arb_instant(), a in 0i64..3_000_000, b in 0i64..3_000_000) {
        let cal = &calendars()[which];
        let (m, e) = (t + Duration::seconds(a), t + Duration::seconds(a + b));
        prop_assert_eq!(cal.seconds_between(t, e), cal.seconds_between(t, m) + cal.seconds_between(m, e));
        prop_assert!(cal.seconds_between(t, e) <= a + b);
    }
}
