use chrono::TimeZone;

use super::*;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, h, m, 0).unwrap()
}

fn zones() -> BoardZones {
    BoardZones {
        queues: [("receiving".to_owned(), chrono_tz::America::New_York), ("billing".to_owned(), Tz::UTC)].into(),
        sites: BTreeMap::new(),
        home: Some(Tz::UTC),
    }
}

fn tally(queue: &str, assignee: Option<&str>, state: SlaState, count: i64) -> OpenTally {
    let of = |s: SlaState| if s == state { count } else { 0 };
    OpenTally {
        queue: queue.into(),
        site: "DC-ATL".into(),
        assignee: assignee.map(Into::into),
        open: count,
        on_track: of(SlaState::OnTrack),
        at_risk: of(SlaState::AtRisk),
        breached: of(SlaState::Breached),
        paused: of(SlaState::Paused),
        waiting: 0,
    }
}

fn dated(at: DateTime<Utc>, queue: &str, seconds: i64) -> Dated {
    Dated { at, queue: queue.into(), site: "DC-ATL".into(), assignee: None, seconds: Some(seconds), resolved: true }
}

/// What the database counts: the rows since each day start, per queue.
fn counted(rows: &[Dated], now: DateTime<Utc>) -> Vec<SinceCount> {
    let mut out = Vec::new();
    for since in day_starts(&zones(), now) {
        let mut per: BTreeMap<&str, i64> = BTreeMap::new();
        for d in rows.iter().filter(|d| d.at >= since && d.resolved) {
            *per.entry(d.queue.as_str()).or_default() += 1;
        }
        out.extend(per.into_iter().map(|(queue, count)| SinceCount {
            since,
            queue: queue.into(),
            site: "DC-ATL".into(),
            assignee: None,
            count,
        }));
    }
    out
}

#[test]
fn today_is_counted_in_each_queues_own_zone() {
    // 04:00 UTC is still yesterday in New York (23:00).
    let now = at(10, 0);
    let inputs = BoardInputs {
        opened: counted(&[dated(at(4, 0), "receiving", 0), dated(at(4, 0), "billing", 0)], now),
        ..Default::default()
    };
    let keys = [("billing".to_owned(), "Billing".to_owned()), ("receiving".to_owned(), "Receiving".to_owned())];
    let board = assemble(BoardGrouping::Queue, now, &keys, &zones(), inputs);
    let receiving = board.rows.iter().find(|r| r.key.as_deref() == Some("receiving")).unwrap();
    let billing = board.rows.iter().find(|r| r.key.as_deref() == Some("billing")).unwrap();
    assert_eq!((receiving.opened_today, billing.opened_today), (0, 1));
    assert_eq!(receiving.day_start, at(5, 0));
    assert_eq!(receiving.zone, "America/New_York");
    assert_eq!(billing.label, "Billing");
}

#[test]
fn counts_fold_into_rows_and_the_oldest_breach_is_kept() {
    let inputs = BoardInputs {
        open: vec![
            tally("billing", None, SlaState::OnTrack, 3),
            tally("billing", Some("pat"), SlaState::AtRisk, 2),
            tally("billing", Some("pat"), SlaState::Breached, 1),
            OpenTally { waiting: 4, ..tally("billing", Some("lee"), SlaState::Paused, 4) },
        ],
        earliest_breach: [(Some("billing".to_owned()), at(3, 0))].into(),
        ..Default::default()
    };
    let board = assemble(BoardGrouping::Queue, at(10, 0), &[], &zones(), inputs.clone());
    let row = &board.rows[0];
    assert_eq!((row.open, row.unassigned, row.on_track, row.at_risk, row.breached, row.waiting), (10, 3, 3, 2, 1, 4));
    assert_eq!(row.oldest_breach, Some(at(3, 0)));
    assert_eq!(row.value(BoardColumn::OldestBreach, at(10, 0)), Some(7 * 3600));

    let inputs = BoardInputs { earliest_breach: [(Some("pat".to_owned()), at(3, 0))].into(), ..inputs };
    let people = assemble(BoardGrouping::Assignee, at(10, 0), &[], &zones(), inputs);
    let keys: Vec<Option<&str>> = people.rows.iter().map(|r| r.key.as_deref()).collect();
    assert_eq!(keys, vec![None, Some("lee"), Some("pat")]);
    assert_eq!(people.rows[2].oldest_breach, Some(at(3, 0)));
    assert_eq!(people.rows[0].label, "Unassigned");
}

#[test]
fn medians_cover_the_last_seven_days_of_resolved_work() {
    let now = at(10, 0);
    let old = now - Duration::days(8);
    let week = vec![
        dated(at(9, 0), "billing", 600),
        dated(at(8, 0), "billing", 60),
        dated(now - Duration::days(2), "billing", 6000),
        Dated { resolved: false, ..dated(at(9, 30), "billing", 5) },
    ];
    let today: Vec<Dated> =
        week.iter().filter(|d| d.at >= at(0, 0)).cloned().chain([dated(old, "billing", 1)]).collect();
    let inputs = BoardInputs {
        resolved: counted(&today, now),
        medians: medians(BoardGrouping::Queue, &[], &week),
        ..Default::default()
    };
    let board = assemble(BoardGrouping::Queue, now, &[], &zones(), inputs);
    assert_eq!(board.rows[0].median_resolve_seconds, Some(600));
    assert_eq!(board.rows[0].resolved_today, 2);
}

#[test]
fn the_median_of_an_even_count_is_the_lower_middle() {
    assert_eq!(median(&mut []), None);
    assert_eq!(median(&mut [5, 1, 3, 2]), Some(2));
    assert_eq!(median(&mut [7]), Some(7));
}

#[test]
fn each_cell_opens_the_view_that_lists_what_it_counts() {
    let now = at(10, 0);
    let board = assemble(
        BoardGrouping::Queue,
        now,
        &[("receiving".to_owned(), "Receiving".to_owned())],
        &zones(),
        BoardInputs::default(),
    );
    let row = &board.rows[0];
    let breached = board.cell_filter(row, BoardColumn::Breached).unwrap();
    assert_eq!(breached.to_query(), "queue=receiving&sla=breached");
    let unassigned = board.cell_filter(row, BoardColumn::Unassigned).unwrap();
    assert_eq!(unassigned.to_query(), "queue=receiving&assignee=none");
    let resolved = board.cell_filter(row, BoardColumn::ResolvedToday).unwrap();
    assert_eq!(resolved.to_query(), "queue=receiving&status=resolved&closed_since=2026-12-02T05%3A00%3A00Z");
    let waiting = board.cell_filter(row, BoardColumn::Waiting).unwrap();
    assert_eq!(waiting.to_query(), "queue=receiving&status=waiting");
}

#[test]
fn a_cell_is_changed_when_its_count_moves_but_not_when_an_age_grows() {
    let keys = [("billing".to_owned(), "Billing".to_owned())];
    let before = assemble(
        BoardGrouping::Queue,
        at(10, 0),
        &keys,
        &zones(),
        BoardInputs { open: vec![tally("billing", None, SlaState::Breached, 1)], ..Default::default() },
    );
    let same_later = Board { at: at(10, 5), ..before.clone() };
    assert!(same_later.changes_from(&before).is_empty());
    let mut later = same_later.clone();
    later.rows[0].breached = 2;
    later.rows[0].at_risk = 0;
    assert_eq!(later.changes_from(&before), vec![(Some("billing".to_owned()), BoardColumn::Breached)]);
}

#[test]
fn midnight_skipped_by_a_clock_change_starts_the_day_at_the_first_hour() {
    // Santiago moved its clocks from 00:00 to 01:00 on 2026-09-06.
    let zone = chrono_tz::America::Santiago;
    let noon = Utc.with_ymd_and_hms(2026, 9, 6, 16, 0, 0).unwrap();
    let start = start_of_day(zone, noon);
    assert_eq!(start.with_timezone(&zone).format("%H:%M").to_string(), "01:00");
}

#[test]
fn durations_read_in_the_largest_units_that_matter() {
    assert_eq!(span(42), "42 s");
    assert_eq!(span(45 * 60), "45 min");
    assert_eq!(span(2 * 3600 + 5 * 60), "2 h 05 min");
    assert_eq!(span(3 * 86400 + 4 * 3600 + 59), "3 d 4 h");
}

#[test]
fn the_counts_beside_a_queue_view_add_up_the_tallies_in_reach() {
    let tallies = [
        tally("receiving", None, SlaState::Breached, 2),
        tally("receiving", Some("pat"), SlaState::AtRisk, 3),
        tally("billing", Some("pat"), SlaState::Breached, 1),
        tally("edi", None, SlaState::OnTrack, 0),
    ];
    let counts = crate::triage::QueueCounts::of(&tallies);
    assert_eq!(counts.by_queue, vec![("billing".to_owned(), 1), ("receiving".to_owned(), 5)]);
    assert_eq!(counts.by_sla, vec![(SlaState::AtRisk, 3), (SlaState::Breached, 3)]);
    let receiving = crate::triage::QueueCounts::of(tallies.iter().filter(|t| t.queue == "receiving"));
    assert_eq!(receiving.by_queue, vec![("receiving".to_owned(), 5)]);
}
