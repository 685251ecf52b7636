use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::calendar::{CalendarSpec, HoursSpec, ShiftSpec};

fn policy() -> SlaPolicy {
    let t = |a, r| SlaTargets { acknowledge_minutes: a, resolve_minutes: r };
    SlaPolicy::from_spec(&SlaPolicySpec {
        name: "Receiving".into(),
        targets: [
            (Severity::Low, t(240, 2400)),
            (Severity::Medium, t(120, 960)),
            (Severity::High, t(60, 480)),
            (Severity::Critical, t(15, 120)),
        ]
        .into_iter()
        .collect(),
        at_risk_percent: 75,
    })
    .unwrap()
}

fn office() -> BusinessCalendar {
    BusinessCalendar::from_spec(&CalendarSpec {
        time_zone: "America/New_York".into(),
        hours: HoursSpec::Weekly {
            shifts: ["mon", "tue", "wed", "thu", "fri"]
                .iter()
                .map(|d| ShiftSpec { day: (*d).into(), start: "08:00".into(), end: "17:00".into(), overnight: false })
                .collect(),
        },
        holidays: vec![],
    })
    .unwrap()
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    // Monday 23 Nov 2026, New York time.
    chrono_tz::America::New_York.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap().with_timezone(&Utc)
}

fn change(t: DateTime<Utc>, status: Status) -> StatusChange {
    StatusChange { at: t, status }
}

#[test]
fn a_new_exception_is_on_track_then_at_risk_then_breached() {
    let (p, cal) = (policy(), office());
    let history = [change(at(9, 0), Status::New)];
    let read = |t| p.read(ClockKind::Acknowledge, Severity::High, &cal, &history, t);
    assert_eq!(read(at(9, 30)).state, SlaState::OnTrack);
    assert_eq!(read(at(9, 30)).remaining_seconds, 30 * 60);
    assert_eq!(read(at(9, 30)).due_at, Some(at(10, 0)));
    assert_eq!(read(at(9, 30)).at_risk_at, Some(at(9, 45)));
    assert_eq!(read(at(9, 50)).state, SlaState::AtRisk);
    assert_eq!(read(at(10, 0)).state, SlaState::Breached);
    let late = read(at(10, 20));
    assert_eq!((late.state, late.remaining_seconds, late.due_at), (SlaState::Breached, -20 * 60, Some(at(10, 0))));
}

#[test]
fn acknowledging_stops_the_acknowledge_clock_as_met_or_missed() {
    let (p, cal) = (policy(), office());
    let on_time = [change(at(9, 0), Status::New), change(at(9, 40), Status::Acknowledged)];
    let reading = p.read(ClockKind::Acknowledge, Severity::High, &cal, &on_time, at(16, 0));
    assert_eq!((reading.state, reading.consumed_seconds), (SlaState::Met, 40 * 60));
    let late = [change(at(9, 0), Status::New), change(at(11, 0), Status::InProgress)];
    assert_eq!(p.read(ClockKind::Acknowledge, Severity::High, &cal, &late, at(16, 0)).state, SlaState::Missed);
}

#[test]
fn waiting_pauses_the_resolve_clock_and_resuming_moves_the_due_instant() {
    let (p, cal) = (policy(), office());
    let history = [
        change(at(9, 0), Status::New),
        change(at(9, 10), Status::InProgress),
        change(at(10, 0), Status::Waiting),
        change(at(14, 0), Status::InProgress),
    ];
    let waiting = p.read(ClockKind::Resolve, Severity::Critical, &cal, &history, at(12, 0));
    assert_eq!((waiting.state, waiting.consumed_seconds, waiting.due_at), (SlaState::Paused, 3600, None));
    let resumed = p.read(ClockKind::Resolve, Severity::Critical, &cal, &history, at(14, 30));
    assert_eq!(resumed.consumed_seconds, 90 * 60);
    assert_eq!(resumed.due_at, Some(at(15, 0)), "two hours of budget: 09:00-10:00 and 14:00-15:00");
    assert_eq!(resumed.state, SlaState::AtRisk);
}

#[test]
fn a_clock_breached_before_waiting_stays_breached() {
    let (p, cal) = (policy(), office());
    let history =
        [change(at(9, 0), Status::New), change(at(9, 5), Status::Acknowledged), change(at(11, 30), Status::Waiting)];
    let reading = p.read(ClockKind::Resolve, Severity::Critical, &cal, &history, at(16, 0));
    assert_eq!(reading.state, SlaState::Breached);
    assert_eq!(reading.due_at, Some(at(11, 0)));
}

#[test]
fn resolving_stops_the_clock_and_reopening_runs_it_on() {
    let (p, cal) = (policy(), office());
    let mut history = vec![change(at(9, 0), Status::New), change(at(10, 0), Status::Resolved)];
    let done = p.read(ClockKind::Resolve, Severity::Critical, &cal, &history, at(16, 0));
    assert_eq!((done.state, done.consumed_seconds), (SlaState::Met, 3600));
    history.push(change(at(13, 0), Status::InProgress));
    let reopened = p.read(ClockKind::Resolve, Severity::Critical, &cal, &history, at(13, 30));
    assert_eq!(reopened.consumed_seconds, 90 * 60);
    assert_eq!(reopened.due_at, Some(at(14, 0)));
    // The acknowledge clock does not restart.
    assert_eq!(p.read(ClockKind::Acknowledge, Severity::Critical, &cal, &history, at(13, 30)).state, SlaState::Missed);
}

#[test]
fn business_hours_carry_the_due_instant_over_the_night() {
    let (p, cal) = (policy(), office());
    let history = [change(at(16, 0), Status::New)];
    let reading = p.read(ClockKind::Resolve, Severity::Critical, &cal, &history, at(16, 30));
    let tuesday_nine =
        chrono_tz::America::New_York.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap().with_timezone(&Utc);
    assert_eq!(reading.due_at, Some(tuesday_nine));
}

#[test]
fn a_snapshot_answers_for_later_instants_like_a_full_reading() {
    let (p, cal) = (policy(), office());
    let history = [change(at(9, 0), Status::New)];
    let snapshot = p.read(ClockKind::Resolve, Severity::High, &cal, &history, at(9, 0)).snapshot();
    for minutes in (0..3000).step_by(7) {
        let t = at(9, 0) + Duration::minutes(minutes);
        assert_eq!(snapshot.state_at(t), p.read(ClockKind::Resolve, Severity::High, &cal, &history, t).state, "{t}");
    }
}

#[test]
fn policies_need_every_severity_and_sane_targets() {
    let mut spec = SlaPolicySpec { name: " ".into(), targets: BTreeMap::new(), at_risk_percent: 100 };
    spec.targets.insert(Severity::Low, SlaTargets { acknowledge_minutes: 0, resolve_minutes: 10_000_000 });
    spec.targets.insert(Severity::Medium, SlaTargets { acknowledge_minutes: 600, resolve_minutes: 60 });
    let problems = SlaPolicy::from_spec(&spec).unwrap_err();
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    for expected in [
        "/name",
        "/at_risk_percent",
        "/targets/low/acknowledge_minutes",
        "/targets/low/resolve_minutes",
        "/targets/medium/acknowledge_minutes",
        "/targets/high",
        "/targets/critical",
    ] {
        assert!(pointers.contains(&expected), "{expected} in {pointers:?}");
    }
}

#[test]
fn the_at_risk_share_defaults_to_three_quarters() {
    let spec: SlaPolicySpec = serde_json::from_value(serde_json::json!({
        "name": "Default",
        "targets": {
            "low": {"acknowledge_minutes": 60, "resolve_minutes": 600},
            "medium": {"acknowledge_minutes": 60, "resolve_minutes": 600},
            "high": {"acknowledge_minutes": 60, "resolve_minutes": 600},
            "critical": {"acknowledge_minutes": 60, "resolve_minutes": 600}
        }
    }))
    .unwrap();
    assert_eq!(SlaPolicy::from_spec(&spec).unwrap().at_risk_percent(), 75);
}

fn arb_status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

fn arb_history() -> impl Strategy<Value = Vec<StatusChange>> {
    prop::collection::vec((1i64..2_000, arb_status()), 0..12).prop_map(|steps| {
        let mut t = at(7, 0);
        let mut history = vec![change(t, Status::New)];
        for (gap, status) in steps {
            t += Duration::minutes(gap);
            history.push(change(t, status));
        }
        history
    })
}

proptest! {
    #[test]
    fn a_paused_clock_consumes_no_budget(history in arb_history(), extra in 1i64..5_000) {
        let (p, cal) = (policy(), office());
        let last = history.last().unwrap().at;
        let now = last + Duration::minutes(30);
        let before = p.read(ClockKind::Resolve, Severity::Medium, &cal, &history, now);
        let later = p.read(ClockKind::Resolve, Severity::Medium, &cal, &history, now + Duration::minutes(extra));
        if history.last().unwrap().status == Status::Waiting || !history.last().unwrap().status.is_open() {
            prop_assert_eq!(before.consumed_seconds, later.consumed_seconds);
            prop_assert_eq!(before.state, later.state);
        } else {
            prop_assert!(later.consumed_seconds >= before.consumed_seconds);
        }
    }

    #[test]
    fn consumed_time_never_exceeds_business_time_since_opening(history in arb_history(), after in 0i64..5_000) {
        let (p, cal) = (policy(), office());
        let now = history.last().unwrap().at + Duration::minutes(after);
        for clock in ClockKind::ALL {
            let reading = p.read(*clock, Severity::Low, &cal, &history, now);
            prop_assert!(reading.consumed_seconds >= 0);
            prop_assert!(reading.consumed_seconds <= cal.seconds_between(history[0].at, now));
            prop_assert_eq!(reading.remaining_seconds, reading.target_seconds - reading.consumed_seconds);
        }
    }

    #[test]
    fn a_running_clock_is_due_when_its_remaining_budget_is_spent(history in arb_history(), after in 0i64..5_000) {
        let (p, cal) = (policy(), office());
        let now = history.last().unwrap().at + Duration::minutes(after);
        let reading = p.read(ClockKind::Resolve, Severity::High, &cal, &history, now);
        if matches!(reading.state, SlaState::OnTrack | SlaState::AtRisk) {
            let due = reading.due_at.unwrap();
            prop_assert_eq!(cal.seconds_between(now, due), reading.remaining_seconds);
            prop_assert_eq!(reading.snapshot().state_at(due), SlaState::Breached);
        }
    }
}
