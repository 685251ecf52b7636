use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::America::Chicago;

use super::*;
use crate::event::BusinessDate;

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn received(po: &str, d: u32, h: u32, lines: &[(u32, f64)]) -> Signal {
    Signal::Received { po: po.into(), site: Some("DC-DAL".into()), at: at(d, h), lines: lines.to_vec() }
}

#[test]
fn a_po_line_counts_once_received_capped_at_what_was_ordered_on_its_first_receipt_day() {
    let mut line = PoLineState::default();
    let ordered = Signal::Ordered {
        po: "PO-1".into(),
        site: Some("DC-DAL".into()),
        supplier: "SUP-1".into(),
        lines: vec![(1, 100.0), (2, 50.0)],
    };
    line.apply(&ordered, 1);
    assert!(line.contributions(Chicago).is_empty(), "nothing received yet: nothing counted");
    // 03:00 UTC on the 20th is the evening of the 19th in Dallas.
    line.apply(&received("PO-1", 20, 3, &[(1, 60.0), (2, 50.0)]), 1);
    line.apply(&received("PO-1", 21, 15, &[(1, 60.0)]), 1);
    let c = line.contributions(Chicago);
    assert_eq!(c.len(), 2, "all suppliers, and SUP-1's own");
    assert_eq!((c[0].supplier.as_str(), c[1].supplier.as_str()), ("", "SUP-1"));
    assert_eq!(c[0].day, day(19));
    assert_eq!((c[0].num, c[0].den, c[0].hit), (100.0, 100.0, false), "120 received, 100 count");
    assert_eq!(c[0].bucket, BUCKETS - 1, "100 %");
}

#[test]
fn a_receipt_after_the_promised_day_is_late_by_whole_days_and_rejected_lines_promise_nothing() {
    let mut line = PoLineState::default();
    let ack = Signal::Promised {
        po: "PO-1".into(),
        site: None,
        supplier: "SUP-1".into(),
        lines: vec![(1, BusinessDate::Day(day(18)))],
    };
    line.apply(&ack, 1);
    line.apply(&received("PO-1", 20, 18, &[(1, 5.0)]), 1);
    let c = line.contributions(Chicago);
    assert_eq!(c.len(), 2, "late receipts only: nothing was ordered on record");
    assert!(c.iter().all(|c| c.kpi == Kpi::LateReceipts && c.num == 2.0 && c.hit));
    assert_eq!(c[0].site, "DC-DAL", "the receipt's site");
    assert_eq!(c[0].bucket, 4, "1 to 3 days late");

    let mut early = PoLineState::default();
    early.apply(&ack, 1);
    early.apply(&received("PO-1", 17, 18, &[(1, 5.0)]), 1);
    let c = early.contributions(Chicago);
    assert_eq!((c[0].num, c[0].hit), (-1.0, false));
}

#[test]
fn latencies_need_both_ends_and_count_on_the_later_ones_day() {
    let mut order = OrderState::default();
    let dispatched = Signal::Dispatched {
        shipment: "SHP-1".into(),
        site: Some("DC-DAL".into()),
        at: at(21, 14),
        orders: vec!["SO-1".into()],
    };
    order.apply(&dispatched);
    assert!(order.contributions(Chicago).is_empty(), "dispatched before the release arrived: nothing yet");
    order.apply(&Signal::Released { order: "SO-1".into(), site: None, at: at(20, 20) });
    let c = order.contributions(Chicago);
    assert_eq!((c[0].kpi, c[0].num, c[0].day), (Kpi::ShipmentLatency, 18.0, day(21)));

    let mut shipment = ShipmentState::default();
    shipment.apply(&dispatched);
    shipment.apply(&Signal::Confirmed {
        shipment: "SHP-1".into(),
        site: None,
        at: at(23, 16),
        delivered_at: at(23, 10),
    });
    let c = shipment.contributions(Chicago);
    assert_eq!(c.iter().map(|c| (c.kpi, c.num)).collect::<Vec<_>>(), [(Kpi::DeliveryLag, 50.0), (Kpi::PodLag, 6.0)]);
}

fn row(kpi: Kpi, site: &str, d: u32, n: i64, num: f64, den: f64, hits: i64) -> DailyRow {
    DailyRow { kpi, site: site.into(), day: day(d), totals: Totals { n, num, den, hits, buckets: [0; BUCKETS] } }
}

#[test]
fn a_report_sums_days_into_weeks_per_site_marks_missed_targets_and_leaves_empty_periods_empty() {
    let query = KpiQuery { from: day(16), to: day(29), period: Period::Week, site: None, supplier: None };
    let rows = [
        row(Kpi::FillRate, "DC-DAL", 16, 2, 90.0, 100.0, 1),
        row(Kpi::FillRate, "DC-DAL", 18, 1, 100.0, 100.0, 0),
        row(Kpi::AllocationFailures, "DC-ATL", 24, 50, 0.0, 0.0, 2),
        row(Kpi::ShipmentLatency, "DC-ATL", 25, 4, 120.0, 0.0, 0),
    ];
    let sites = ["DC-ATL".to_owned(), "DC-DAL".to_owned()];
    let r = report(&query, &rows, &sites, &KpiTargets::standard());
    assert_eq!(r.periods, [day(16), day(23)], "weeks from Monday the 16th");
    let fill = &r.kpis[0];
    let dal = fill.series.iter().find(|s| s.site == "DC-DAL").unwrap();
    assert_eq!(dal.points[0].value, Some(95.0), "190 of 200");
    assert!(!dal.points[0].missed, "95 % meets a 95 % target");
    assert_eq!((dal.points[1].value, dal.points[1].n), (None, 0), "an empty week has no value");
    let alloc = r.kpis.iter().find(|k| k.kpi == Kpi::AllocationFailures).unwrap();
    assert_eq!(alloc.overall, Some(4.0));
    assert!(alloc.overall_missed, "4 % failed is past 2 %");
    let latency = r.kpis.iter().find(|k| k.kpi == Kpi::ShipmentLatency).unwrap();
    assert_eq!(latency.overall, Some(30.0));
    assert!(latency.overall_missed);
    let by_supplier =
        report(&KpiQuery { supplier: Some("SUP-1".into()), ..query }, &rows, &sites, &KpiTargets::standard());
    assert_eq!(by_supplier.kpis.iter().map(|k| k.kpi).collect::<Vec<_>>(), [Kpi::FillRate, Kpi::LateReceipts]);
}

#[test]
fn targets_and_ranges_are_checked() {
    let mut t = KpiTargets::standard();
    assert!(t.problems().is_empty());
    t.targets.insert(Kpi::FillRate, 140.0);
    t.targets.insert(Kpi::PodLag, -1.0);
    let pointers: Vec<String> = t.problems().into_iter().map(|p| p.pointer).collect();
    assert_eq!(pointers, ["/targets/fill_rate", "/targets/pod_lag"]);
    let q = KpiQuery { from: day(20), to: day(19), period: Period::Day, site: None, supplier: None };
    assert!(q.validate().is_err());
    assert_eq!(Kpi::ShipmentLatency.bucket_labels().len(), BUCKETS);
}
