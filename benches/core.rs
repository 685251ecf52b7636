//! Benchmarks of the core's hot paths. Run with `cargo bench -p crossdock`.
//!
//! - SLA state of 1,000,000 open exceptions from their stored snapshots (what
//!   the SLA board and the scanner do), on one core;
//! - a full clock reading from a status history on a business calendar (what
//!   a status change does);
//! - event parsing throughput.

use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossdock::calendar::{BusinessCalendar, CalendarSpec, HoursSpec, ShiftSpec};
use crossdock::sla::{ClockKind, SlaPolicy, SlaPolicySpec, SlaSnapshot, SlaTargets, StatusChange};
use crossdock::{Severity, Status};

fn office() -> BusinessCalendar {
    BusinessCalendar::from_spec(&CalendarSpec {
        time_zone: "America/Chicago".into(),
        hours: HoursSpec::Weekly {
            shifts: ["mon", "tue", "wed", "thu", "fri"]
                .iter()
                .map(|d| ShiftSpec { day: (*d).into(), start: "07:00".into(), end: "19:00".into(), overnight: false })
                .collect(),
        },
        holidays: vec![chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("date")],
    })
    .expect("calendar")
}

fn policy() -> SlaPolicy {
    let t = |a, r| SlaTargets { acknowledge_minutes: a, resolve_minutes: r };
    SlaPolicy::from_spec(&SlaPolicySpec {
        name: "bench".into(),
        targets: [
            (Severity::Low, t(480, 4800)),
            (Severity::Medium, t(240, 1440)),
            (Severity::High, t(60, 480)),
            (Severity::Critical, t(15, 120)),
        ]
        .into_iter()
        .collect(),
        at_risk_percent: 75,
    })
    .expect("policy")
}

fn sla(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 15, 0, 0).single().expect("now");
    let snapshots: Vec<SlaSnapshot> = (0..1_000_000i64)
        .map(|i| {
            let due = now + Duration::minutes(i % 5000 - 2500);
            SlaSnapshot {
                frozen: if i % 17 == 0 { Some(crossdock::sla::SlaState::Paused) } else { None },
                due_at: Some(due),
                at_risk_at: Some(due - Duration::minutes(60)),
            }
        })
        .collect();
    let mut group = c.benchmark_group("sla");
    group.throughput(Throughput::Elements(snapshots.len() as u64));
    group.bench_function("state of 1,000,000 open exceptions", |b| {
        b.iter(|| {
            let mut counts = [0u32; 6];
            for s in &snapshots {
                counts[s.state_at(black_box(now)) as usize] += 1;
            }
            counts
        })
    });
    group.finish();

    let (policy, calendar) = (policy(), office());
    let opened = now - Duration::hours(30);
    let history = [
        StatusChange { at: opened, status: Status::New },
        StatusChange { at: opened + Duration::minutes(40), status: Status::Acknowledged },
        StatusChange { at: opened + Duration::hours(2), status: Status::InProgress },
        StatusChange { at: opened + Duration::hours(5), status: Status::Waiting },
        StatusChange { at: opened + Duration::hours(22), status: Status::InProgress },
    ];
    let mut group = c.benchmark_group("sla");
    group.throughput(Throughput::Elements(1));
    group.bench_function("clock reading from a status history", |b| {
        b.iter(|| policy.read(ClockKind::Resolve, Severity::Medium, &calendar, black_box(&history), now))
    });
    group.finish();
}

fn parsing(c: &mut Criterion) {
    let body = br#"{"specversion":"1.0","id":"9b1f6c0e-2d4a-4c1e-9f57-3a0d8e5b7c21","source":"wms/dc-atl",
        "type":"exception.partial_receipt","time":"2026-11-24T15:42:10Z","subject":"PO-10045",
        "data":{"site":"DC-ATL","refs":{"po":"PO-10045","asn":"ASN-55120","receipt":"RCV-90311",
        "supplier":"SUP-017","item":"SKU-20418"},"po":"PO-10045","line":2,"item":"SKU-20418",
        "expected_qty":240,"received_qty":192,"summary":"48 EA short on PO-10045 line 2"}}"#;
    let mut group = c.benchmark_group("events");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse a partial receipt from bytes", |b| {
        b.iter(|| {
            let value: serde_json::Value = serde_json::from_slice(black_box(body)).expect("json");
            crossdock::event::parse(&value).expect("valid")
        })
    });
    group.finish();
}

criterion_group!(benches, sla, parsing);
criterion_main!(benches);
