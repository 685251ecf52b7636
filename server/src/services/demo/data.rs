//! Demo data: a realistic configuration (three sites in different time zones,
//! five work queues, SLA policies and routing rules) and a few dozen events
//! from the systems of a distributor, exceptions and milestones.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use crossdock::Severity;
use crossdock::calendar::{CalendarSpec, HoursSpec, ShiftSpec};
use crossdock::config::{QueueSpec, SiteSpec};
use crossdock::escalation::{EscalationPolicy, EscalationSet};
use crossdock::routing::{ConditionSpec, RuleSetSpec, RuleSpec};
use crossdock::sla::{SlaPolicySpec, SlaTargets};
use crossdock::source::SourceName;
use serde_json::{Value, json};

use crossdock::event::System;
use crossdock::replay::{ConnectorSpec, HttpMethod};

use crate::services::{ConfigDocs, NewUser, SourceSettings};

/// A demo site: code, name and IANA time zone.
pub const SITES: [(&str, &str, &str); 3] = [
    ("DC-ATL", "Atlanta DC", "America/New_York"),
    ("DC-DAL", "Dallas DC", "America/Chicago"),
    ("DC-RNO", "Reno DC", "America/Los_Angeles"),
];

const SUPPLIERS: [&str; 5] = ["SUP-017", "SUP-022", "SUP-031", "SUP-048", "SUP-105"];
const ITEMS: [&str; 6] = ["SKU-20418", "SKU-30112", "SKU-11873", "SKU-40220", "SKU-27765", "SKU-50931"];
const CARRIERS: [&str; 4] = ["ODFL", "XPO", "SAIA", "FEDEX-FRT"];

fn shifts(days: &[&str], start: &str, end: &str) -> Vec<ShiftSpec> {
    days.iter()
        .map(|d| ShiftSpec { day: (*d).into(), start: start.into(), end: end.into(), overnight: false })
        .collect()
}

fn date(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap_or_default()
}

const WEEKDAYS: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];

fn us_holidays() -> Vec<chrono::NaiveDate> {
    ["2026-11-26", "2026-12-25", "2027-01-01", "2027-05-31", "2027-07-05"].iter().map(|d| date(d)).collect()
}

fn office(tz: &str) -> CalendarSpec {
    CalendarSpec {
        time_zone: tz.into(),
        hours: HoursSpec::Weekly { shifts: shifts(&WEEKDAYS, "08:00", "17:00") },
        holidays: us_holidays(),
    }
}

/// The demo configuration.
pub fn configuration() -> ConfigDocs {
    let atl = CalendarSpec {
        time_zone: "America/New_York".into(),
        hours: HoursSpec::Weekly {
            shifts: [shifts(&WEEKDAYS, "06:00", "22:00"), shifts(&["sat"], "07:00", "15:00")].concat(),
        },
        holidays: us_holidays(),
    };
    // Dallas runs a night shift from Sunday night to Friday morning.
    let mut dal_shifts = shifts(&WEEKDAYS, "06:00", "22:00");
    for day in ["sun", "mon", "tue", "wed", "thu"] {
        dal_shifts.push(ShiftSpec { day: day.into(), start: "22:00".into(), end: "06:00".into(), overnight: true });
    }
    let dal = CalendarSpec {
        time_zone: "America/Chicago".into(),
        hours: HoursSpec::Weekly { shifts: dal_shifts },
        holidays: us_holidays(),
    };
    let rno = CalendarSpec {
        time_zone: "America/Los_Angeles".into(),
        hours: HoursSpec::Weekly { shifts: shifts(&["mon", "tue", "wed", "thu", "fri", "sat"], "07:00", "19:00") },
        holidays: us_holidays(),
    };
    let sites = vec![
        SiteSpec { code: "DC-ATL".into(), name: "Atlanta DC".into(), calendar: atl },
        SiteSpec { code: "DC-DAL".into(), name: "Dallas DC".into(), calendar: dal },
        SiteSpec { code: "DC-RNO".into(), name: "Reno DC".into(), calendar: rno },
    ];
    let t = |a, r| SlaTargets { acknowledge_minutes: a, resolve_minutes: r };
    let policy = |name: &str, targets: [SlaTargets; 4]| SlaPolicySpec {
        name: name.into(),
        targets: Severity::ALL.iter().copied().zip(targets).collect(),
        at_risk_percent: 75,
    };
    let policies = vec![
        policy("Purchasing", [t(480, 2880), t(240, 1440), t(120, 480), t(30, 240)]),
        policy("Warehouse", [t(240, 1440), t(120, 480), t(30, 240), t(15, 120)]),
        policy("Transportation", [t(120, 480), t(60, 240), t(15, 120), t(10, 60)]),
        policy("Billing", [t(480, 2880), t(240, 1440), t(120, 960), t(60, 480)]),
    ];
    let queue =
        |key: &str, name: &str, team: &str, policy: &str, site: Option<&str>, calendar: Option<CalendarSpec>| {
            QueueSpec {
                key: key.into(),
                name: name.into(),
                team: team.into(),
                sla_policy: policy.into(),
                site: site.map(Into::into),
                calendar,
            }
        };
    let queues = vec![
        queue("purchasing", "Purchasing", "Purchasing", "Purchasing", None, Some(office("America/New_York"))),
        queue("receiving", "Receiving", "Warehouse operations", "Warehouse", Some("DC-DAL"), None),
        queue("inventory-control", "Inventory control", "Inventory control", "Warehouse", Some("DC-ATL"), None),
        queue(
            "transportation",
            "Transportation",
            "Transportation",
            "Transportation",
            None,
            Some(CalendarSpec { time_zone: "America/Chicago".into(), hours: HoursSpec::AlwaysOpen, holidays: vec![] }),
        ),
        queue("billing", "Billing", "Finance operations", "Billing", None, Some(office("America/Chicago"))),
    ];
    let cond = |field: &str, op: &str, value: Value| ConditionSpec { field: field.into(), op: op.into(), value };
    let rule = |name: &str, queue: &str, conditions: Vec<ConditionSpec>| RuleSpec {
        name: name.into(),
        enabled: true,
        conditions,
        queue: queue.into(),
        severity: None,
        override_severity: false,
        assignee: None,
    };
    let of_type = |t: &str| cond("type", "equals", json!(t));
    let routing = RuleSetSpec {
        rules: vec![
            rule(
                "Carrier and TMS failures",
                "transportation",
                vec![of_type("exception.integration"), cond("data:/system", "one_of", json!(["carrier", "tms"]))],
            ),
            rule(
                "ERP failures",
                "billing",
                vec![of_type("exception.integration"), cond("data:/system", "equals", json!("erp"))],
            ),
            rule(
                "WMS failures",
                "inventory-control",
                vec![of_type("exception.integration"), cond("data:/system", "equals", json!("wms"))],
            ),
            rule("Partial receipts", "receiving", vec![of_type("exception.partial_receipt")]),
            rule("Supplier date changes", "purchasing", vec![of_type("exception.supplier_date_change")]),
            rule("Inventory mismatches", "inventory-control", vec![of_type("exception.inventory_mismatch")]),
            rule("Allocation failures", "inventory-control", vec![of_type("exception.allocation_failed")]),
            rule("Invoice triggers", "billing", vec![of_type("exception.invoice_trigger_failed")]),
            rule(
                "Overdue supplier milestones",
                "purchasing",
                vec![
                    of_type("exception.milestone_overdue"),
                    cond("data:/expected", "equals", json!("po.acknowledged")),
                ],
            ),
            rule(
                "Overdue receipts",
                "receiving",
                vec![of_type("exception.milestone_overdue"), cond("data:/expected", "equals", json!("receipt.posted"))],
            ),
            rule(
                "Overdue deliveries",
                "transportation",
                vec![
                    of_type("exception.milestone_overdue"),
                    cond("data:/expected", "equals", json!("delivery.confirmed")),
                ],
            ),
            rule(
                "Overdue invoices",
                "billing",
                vec![of_type("exception.milestone_overdue"), cond("data:/expected", "equals", json!("invoice.posted"))],
            ),
        ],
        fallback_queue: "triage".into(),
    };
    // Receiving must pick up new work within half an hour; transportation's
    // breaches become more severe; billing's go to purchasing to chase.
    let policy = EscalationPolicy::default_for;
    let escalations = EscalationSet {
        policies: vec![
            EscalationPolicy { unacknowledged_minutes: Some(30), ..policy("receiving") },
            EscalationPolicy { raise_severity: true, ..policy("transportation") },
            EscalationPolicy { move_to: Some("purchasing".into()), ..policy("billing") },
        ],
    };
    ConfigDocs {
        sites,
        policies,
        queues,
        routing: Some(routing),
        expectations: None,
        escalations: Some(escalations),
        kpi_targets: None,
    }
}

/// The demo sources: one per system, each writing under its own prefix.
pub fn sources() -> Vec<SourceSettings> {
    [("wms", "wms"), ("erp", "erp"), ("portal", "portal"), ("tms", "tms"), ("middleware", "mw")]
        .into_iter()
        .filter_map(|(name, prefix)| Some((name, crossdock::source::Prefixes::parse_list(prefix).ok()?)))
        .map(|(name, prefixes)| SourceSettings {
            name: name.into(),
            prefixes,
            rate_per_sec: 200.0,
            burst: 1000,
            nats_subject: None,
        })
        .collect()
}

fn site(i: usize) -> &'static str {
    SITES[i % SITES.len()].0
}

fn wms(i: usize) -> String {
    format!("wms/{}", site(i).to_lowercase())
}

/// How long before the seeding each demo event reached Crossdock, in
/// minutes: a working morning, the oldest about nine hours back. A few
/// carrier failures (whose queue runs around the clock) are placed so that
/// some are on track, one is at risk and the rest have breached, whenever
/// the data is seeded.
fn minutes_ago(n: usize, count: usize, source: &str, data: &Value) -> i64 {
    let shipment = data["refs"]["shipment"].as_str().unwrap_or_default();
    match (source, shipment) {
        ("mw/integration-hub", "SHP-4471") => 4,
        ("mw/integration-hub", "SHP-4480") => 13,
        ("mw/integration-hub", "SHP-4489") => 25,
        _ => ((count - n) as i64) * 11 + (n as i64 * 7) % 9 + 30,
    }
}

/// The demo events, with the instant each reached Crossdock, oldest first.
pub fn events(now: DateTime<Utc>) -> Vec<(Value, DateTime<Utc>)> {
    let mut out: Vec<(String, &str, Value)> = Vec::new();
    for i in 0..8 {
        out.push(partial_receipt(i));
        out.push(supplier_date_change(i));
        out.push(inventory_mismatch(i));
        out.push(carrier_timeout(i));
        out.push(invoice_trigger_failed(i));
    }
    out.push(allocation_failed(0));
    out.push(allocation_failed(1));
    out.push(system_failure(
        "erp",
        "erp.create_invoice",
        "service_unavailable",
        "ERP answered 503 while posting the invoice",
        0,
    ));
    out.push(system_failure(
        "wms",
        "wms.release_order",
        "timeout",
        "WMS did not answer the order release within 20 s",
        1,
    ));
    let count = out.len();
    let mut timed: Vec<(Value, DateTime<Utc>)> = out
        .into_iter()
        .enumerate()
        .map(|(n, (source, event_type, data))| {
            let at = now - Duration::minutes(minutes_ago(n, count, &source, &data));
            let event = json!({
                "specversion": "1.0",
                "id": format!("demo-{n:03}"),
                "source": source,
                "type": event_type,
                "time": at.to_rfc3339_opts(SecondsFormat::Secs, true),
                "data": data,
            });
            (event, at)
        })
        .collect();
    for (n, (source, event_type, data, minutes)) in milestones().into_iter().enumerate() {
        let at = now - Duration::minutes(minutes);
        let event = json!({
            "specversion": "1.0",
            "id": format!("demo-m{n:03}"),
            "source": source,
            "type": event_type,
            "time": at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "data": data,
        });
        timed.push((event, at));
    }
    timed.sort_by_key(|(_, at)| *at);
    timed
}

/// An integration failure of a system other than a carrier, replayable
/// through its demo connector.
fn system_failure(system: &str, operation: &str, code: &str, message: &str, i: usize) -> (String, &'static str, Value) {
    let order = format!("SO-{}", 79001 + i * 11);
    let data = json!({
        "site": site(i + 1),
        "refs": {"order": order},
        "system": system, "operation": operation, "error_code": code, "message": message,
        "retryable": true, "attempts": 2,
        "payload": {"order": order, "lines": 3},
        "severity": "high",
    });
    ("mw/integration-hub".into(), "exception.integration", data)
}

/// Where the demo connectors send replays: the demo target that `make run`
/// starts beside the console.
pub const DEMO_TARGET: &str = "http://127.0.0.1:3900";

/// One connector per system whose failures the demo can replay.
pub fn connectors(target: &str) -> Vec<ConnectorSpec> {
    [
        ("Carrier gateway (demo)", System::Carrier, "carrier"),
        ("ERP (demo)", System::Erp, "erp"),
        ("WMS (demo)", System::Wms, "wms"),
    ]
    .into_iter()
    .map(|(name, system, path)| ConnectorSpec {
        name: name.into(),
        system,
        operation: "*".into(),
        method: HttpMethod::Post,
        url: format!("{}/{path}", target.trim_end_matches('/')),
        headers: Default::default(),
        auth_header: None,
        timeout_ms: 5_000,
        retry_policy: None,
        breaker_threshold: 5,
        breaker_cooldown_seconds: 60,
        // The integration hub files every failure of the demo.
        allowed_sources: SourceName::parse("middleware").into_iter().collect(),
    })
    .collect()
}

/// What people did to the demo exceptions this morning: who, to which event's
/// exception, what, and how many minutes before the seeding.
pub struct Scene {
    pub user: &'static str,
    pub event: &'static str,
    pub change: crossdock::triage::Change,
    pub minutes_ago: i64,
}

/// The morning's work on the demo exceptions.
pub fn scenes() -> Vec<Scene> {
    use crossdock::lifecycle::{Action, Reason, ResolutionCode, WaitParty};
    use crossdock::triage::Change;
    let reason = |text: &str| Reason::parse(text).unwrap_or_else(|_| unreachable!("demo reasons are not empty"));
    let scene = |user, event, change, minutes_ago| Scene { user, event, change, minutes_ago };
    vec![
        // A receiving clerk has taken two short receipts; one waits on its supplier.
        scene("pat", "PO-10045", Change::Claim, 50),
        scene(
            "pat",
            "PO-10045",
            Change::Status(Action::Wait {
                party: WaitParty::Supplier,
                reason: reason("asked SUP-017 when the missing 12 EA ship"),
            }),
            45,
        ),
        scene("pat", "PO-10052", Change::Claim, 28),
        scene("pat", "PO-10052", Change::Comment { text: reason("recounting the pallet with the dock lead") }, 20),
        // The supervisor worked a carrier failure and cleared two items.
        scene("sam", "SHP-4498", Change::Claim, 35),
        scene("sam", "SHP-4498", Change::Status(Action::Start), 33),
        scene(
            "sam",
            "PO-10100",
            Change::Status(Action::Resolve {
                code: ResolutionCode::Accepted,
                note: Some(reason("new date is inside the customer's window")),
            }),
            70,
        ),
        scene(
            "sam",
            "SO-78035",
            Change::Status(Action::Dismiss { reason: reason("same invoice as SO-78001, already fixed in the ERP") }),
            55,
        ),
    ]
}

fn partial_receipt(i: usize) -> (String, &'static str, Value) {
    let po = format!("PO-{}", 10045 + i * 7);
    let line = 1 + i % 4;
    let (item, supplier) = (ITEMS[i % ITEMS.len()], SUPPLIERS[i % SUPPLIERS.len()]);
    let expected = 240 - (i as i64) * 12;
    let received = expected - 12 - (i as i64 % 3) * 18;
    let severity = if i.is_multiple_of(3) { "high" } else { "medium" };
    let data = json!({
        "site": site(i),
        "refs": {"po": po, "asn": format!("ASN-{}", 55120 + i * 3), "receipt": format!("RCV-{}", 90311 + i * 5),
                 "supplier": supplier, "item": item},
        "po": po, "line": line, "item": item, "expected_qty": expected, "received_qty": received,
        "severity": severity,
        "summary": format!("{} EA short on {po} line {line}", expected - received),
    });
    (wms(i), "exception.partial_receipt", data)
}

fn supplier_date_change(i: usize) -> (String, &'static str, Value) {
    let po = format!("PO-{}", 10100 + i * 11);
    let supplier = SUPPLIERS[(i + 2) % SUPPLIERS.len()];
    let previous = format!("2026-12-{:02}", 1 + i);
    let promised = format!("2026-12-{:02}", 8 + i * 2);
    let data = json!({
        "site": site(i + 1),
        "refs": {"po": po, "supplier": supplier, "item": ITEMS[(i + 1) % ITEMS.len()]},
        "po": po, "line": 1, "supplier": supplier, "previous_date": previous, "promised_date": promised,
        "severity": if i % 4 == 1 { "high" } else { "medium" },
    });
    ("portal/supplier-hub".into(), "exception.supplier_date_change", data)
}

fn inventory_mismatch(i: usize) -> (String, &'static str, Value) {
    let item = ITEMS[(i + 3) % ITEMS.len()];
    let erp = 120 + (i as i64) * 15;
    let wms_qty = erp - 6 - (i as i64 % 4) * 9;
    let data = json!({
        "site": site(i + 2),
        "refs": {"item": item},
        "item": item, "erp_qty": erp, "wms_qty": wms_qty, "bin": format!("A-{:02}-{:02}", 10 + i, 1 + i % 5),
        "severity": if i.is_multiple_of(5) { "high" } else { "low" },
    });
    ("erp/sap-prod".into(), "exception.inventory_mismatch", data)
}

fn carrier_timeout(i: usize) -> (String, &'static str, Value) {
    let carrier = CARRIERS[i % CARRIERS.len()];
    let (order, shipment) = (format!("SO-{}", 77812 + i * 13), format!("SHP-{}", 4471 + i * 9));
    let data = json!({
        "site": site(i),
        "refs": {"order": order, "shipment": shipment, "carrier": carrier},
        "system": "carrier", "operation": "tms.create_shipment", "error_code": "timeout",
        "message": "carrier rating API did not answer within 30 s", "retryable": true, "attempts": 3,
        "payload": {"shipment": shipment, "carrier": carrier, "service": "LTL", "pallets": 2 + i % 5},
        "severity": if i.is_multiple_of(2) { "critical" } else { "high" },
        "summary": format!("{carrier} rating API timed out creating shipment {shipment}"),
    });
    ("mw/integration-hub".into(), "exception.integration", data)
}

fn invoice_trigger_failed(i: usize) -> (String, &'static str, Value) {
    let (order, shipment) = (format!("SO-{}", 78001 + i * 17), format!("SHP-{}", 4600 + i * 7));
    let (code, message) = if i.is_multiple_of(2) {
        ("missing_tax_code", "ERP rejected the invoice: customer has no tax code for the ship-to state")
    } else {
        ("price_mismatch", "ERP rejected the invoice: order price differs from contract price")
    };
    let data = json!({
        "site": site(i + 1),
        "refs": {"order": order, "shipment": shipment, "customer": format!("CUST-{}", 310 + i)},
        "order": order, "shipment": shipment, "error_code": code, "message": message,
    });
    ("erp/sap-prod".into(), "exception.invoice_trigger_failed", data)
}

fn allocation_failed(i: usize) -> (String, &'static str, Value) {
    let order = format!("SO-{}", 77901 + i * 3);
    let item = ITEMS[(i + 1) % ITEMS.len()];
    let data = json!({
        "site": site(i),
        "refs": {"order": order, "item": item},
        "order": order, "item": item, "requested_qty": 12, "available_qty": 4 + i,
    });
    (wms(i), "exception.allocation_failed", data)
}

/// The business transactions behind the demo's exceptions, for lineage: one
/// complete but for a short receipt, a PO acknowledged late, one whose ASN
/// never came, an order stuck at allocation, a shipment with no proof of
/// delivery, and one delivered whose invoice failed. Each milestone with how
/// many minutes before the seeding it happened.
fn milestones() -> Vec<(String, &'static str, Value, i64)> {
    const HOUR: i64 = 60;
    const DAY: i64 = 24 * HOUR;
    let po_created = |po: &str, supplier: &str, item: &str, qty: i64| {
        json!({"site": "DC-ATL", "refs": {"po": po, "supplier": supplier}, "supplier": supplier,
               "lines": [{"line": 1, "item": item, "qty": qty, "uom": "EA", "requested_date": "2026-11-20"}]})
    };
    let po_ack = |po: &str, supplier: &str, qty: i64, promised: &str| {
        json!({"site": "DC-ATL", "refs": {"po": po}, "supplier": supplier,
               "lines": [{"line": 1, "status": "accepted", "qty": qty, "promised_date": promised}]})
    };
    let released = |order: &str, customer: &str, item: &str| {
        json!({"site": "DC-ATL", "refs": {"order": order, "customer": customer}, "order": order, "customer": customer,
               "channel": "edi", "lines": [{"line": 1, "item": item, "qty": 40}]})
    };
    let allocated = |order: &str, item: &str| {
        json!({"site": "DC-ATL", "refs": {"order": order}, "order": order,
               "lines": [{"line": 1, "item": item, "qty_allocated": 40}]})
    };
    let picked = |order: &str, item: &str| {
        json!({"site": "DC-ATL", "refs": {"order": order}, "order": order,
               "lines": [{"line": 1, "item": item, "qty_picked": 40}]})
    };
    let dispatched = |order: &str, shipment: &str, carrier: &str, tracking: &str| {
        json!({"site": "DC-ATL", "refs": {"order": order, "shipment": shipment, "carrier": carrier}, "shipment": shipment,
               "carrier": carrier, "tracking": tracking, "orders": [order]})
    };
    let erp = || "erp/sap-prod".to_owned();
    let portal = || "portal/supplier-hub".to_owned();
    let wms = || "wms/dc-atl".to_owned();
    let tms = || "tms/project44".to_owned();
    vec![
        // PO-10045: ordered, acknowledged, shipped 240, received 228.
        (erp(), "po.created", po_created("PO-10045", "SUP-017", "SKU-20418", 240), 6 * DAY),
        (portal(), "po.acknowledged", po_ack("PO-10045", "SUP-017", 240, "2026-11-23"), 6 * DAY - 5 * HOUR),
        (
            portal(),
            "asn.received",
            json!({"site": "DC-ATL", "refs": {"po": "PO-10045", "asn": "ASN-55120"}, "asn": "ASN-55120",
                   "eta": "2026-11-24T09:00:00-05:00", "lines": [{"line": 1, "item": "SKU-20418", "qty": 240}]}),
            2 * DAY,
        ),
        (
            wms(),
            "receipt.posted",
            json!({"site": "DC-ATL", "refs": {"po": "PO-10045", "asn": "ASN-55120", "receipt": "RCV-90311"},
                   "receipt": "RCV-90311", "lines": [{"line": 1, "item": "SKU-20418", "qty_received": 228}]}),
            9 * HOUR,
        ),
        // PO-10100: acknowledged five days after it was sent (late on any
        // day of the week, weekends and all).
        (erp(), "po.created", po_created("PO-10100", "SUP-044", "SKU-30112", 500), 8 * DAY),
        (portal(), "po.acknowledged", po_ack("PO-10100", "SUP-044", 500, "2026-12-08"), 3 * DAY),
        // PO-10052: acknowledged, and no ASN since.
        (erp(), "po.created", po_created("PO-10052", "SUP-112", "SKU-11873", 180), 7 * DAY),
        (portal(), "po.acknowledged", po_ack("PO-10052", "SUP-112", 180, "2026-11-26"), 7 * DAY - 4 * HOUR),
        // SO-77901: released, never allocated.
        (erp(), "order.released", released("SO-77901", "CUST-318", "SKU-44021"), 2 * DAY),
        // SO-77825: dispatched with SHP-4480, no proof of delivery.
        (erp(), "order.released", released("SO-77825", "CUST-311", "SKU-30112"), 5 * DAY),
        (wms(), "order.allocated", allocated("SO-77825", "SKU-30112"), 5 * DAY - 2 * HOUR),
        (wms(), "pick.completed", picked("SO-77825", "SKU-30112"), 4 * DAY),
        (tms(), "shipment.dispatched", dispatched("SO-77825", "SHP-4480", "ODFL", "ODFL-88123"), 4 * DAY - 3 * HOUR),
        (
            tms(),
            "shipment.in_transit",
            json!({"site": "DC-ATL", "refs": {"shipment": "SHP-4480"}, "shipment": "SHP-4480",
                   "location": "Memphis TN", "eta": "2026-11-27T15:00:00-06:00"}),
            3 * DAY,
        ),
        // SO-78001: delivered with SHP-4600; its invoice failed.
        (erp(), "order.released", released("SO-78001", "CUST-310", "SKU-20418"), 6 * DAY),
        (wms(), "order.allocated", allocated("SO-78001", "SKU-20418"), 6 * DAY - 2 * HOUR),
        (wms(), "pick.completed", picked("SO-78001", "SKU-20418"), 5 * DAY),
        (
            tms(),
            "shipment.dispatched",
            dispatched("SO-78001", "SHP-4600", "UPS", "1Z999AA10123456784"),
            5 * DAY - 4 * HOUR,
        ),
        (
            tms(),
            "delivery.confirmed",
            json!({"site": "DC-ATL", "refs": {"shipment": "SHP-4600"}, "shipment": "SHP-4600",
                   "delivered_at": "2026-11-27T11:20:00-05:00", "signed_by": "R. ALVAREZ"}),
            2 * DAY,
        ),
        // SO-77812: released, allocated and picked; its shipment failed to book.
        (erp(), "order.released", released("SO-77812", "CUST-310", "SKU-30112"), 2 * DAY),
        (wms(), "order.allocated", allocated("SO-77812", "SKU-30112"), 2 * DAY - HOUR),
        (wms(), "pick.completed", picked("SO-77812", "SKU-30112"), 5 * HOUR),
    ]
}

/// The demo accounts, one per role, with known passwords; created only with
/// the demo data and marked as demo.
pub const DEMO_USERS: [(&str, &str, &str, &str, &[&str]); 4] = [
    ("pat", "Pat Rivera", "staff", "receiving-dock-pallet-7", &["receiving", "inventory-control"]),
    ("sam", "Sam Okafor", "supervisor", "supervisor-board-amber-9", &[]),
    ("alex", "Alex Chen", "auditor", "audit-trail-ledger-5", &[]),
    ("morgan", "Morgan Blake", "admin", "admin-console-harbor-3", &[]),
];

pub fn users() -> Vec<NewUser> {
    DEMO_USERS
        .iter()
        .map(|(username, display_name, role, password, queues)| NewUser {
            username: (*username).into(),
            display_name: (*display_name).into(),
            role: (*role).into(),
            password: secrecy::SecretString::from(*password),
            queues: queues.iter().map(|q| (*q).to_owned()).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossdock::config::{Configuration, ConfigurationSpec};

    #[test]
    fn the_demo_configuration_is_valid_and_routes_every_exception_type() {
        let docs = configuration();
        let mut queues = docs.queues.clone();
        queues.push(QueueSpec {
            key: "triage".into(),
            name: "Triage".into(),
            team: "Integration support".into(),
            sla_policy: "Billing".into(),
            site: Some("DC-DAL".into()),
            calendar: None,
        });
        let config = Configuration::build(ConfigurationSpec {
            sites: docs.sites,
            policies: docs.policies.into_iter().enumerate().map(|(i, p)| (i as i64, p)).collect(),
            queues,
            routing: docs.routing,
            routing_version: None,
            expectations: None,
            escalations: docs.escalations,
            kpi_targets: None,
        })
        .unwrap();
        for (event, _) in events(Utc::now()) {
            let parsed = crossdock::event::parse(&event).unwrap();
            if let Some(facts) = crossdock::routing::RoutingFacts::of_event(&parsed, &event["data"]) {
                let decision = config.routing.route(&facts);
                assert_ne!(decision.queue.as_str(), "triage", "{event}");
            }
        }
    }

    #[test]
    fn the_demo_covers_every_site_and_is_in_the_past() {
        let now = Utc::now();
        let all = events(now);
        assert!(all.len() >= 40);
        for (code, _, _) in SITES {
            assert!(all.iter().any(|(e, _)| e["data"]["site"] == code), "{code}");
        }
        assert!(all.iter().all(|(_, at)| *at < now));
    }
}
