//! Two weeks of business before the demo's morning, at its three sites, so
//! that the KPI charts have shape: purchase orders created, acknowledged,
//! announced, received (some short, some late) and put away; customer orders
//! released, allocated (a few failing first), dispatched and delivered with
//! their proof of delivery,
//! and invoiced: each milestone within what the standard expectations allow,
//! so the history files no overdue work of its own.
//! Everything is drawn from a fixed seed, relative to when the demo is seeded.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::data::SITES;

/// Days of history.
pub const DAYS: i64 = 14;
const POS_PER_DAY: usize = 3;
const ORDERS_PER_DAY: usize = 4;

/// The history's events, oldest first, and the allocation failures among
/// them (resolved an hour or two later, as the inventory team did).
pub struct History {
    pub events: Vec<(Value, DateTime<Utc>)>,
    /// The `id` of each allocation failure, and when it was resolved.
    pub failures: Vec<(String, DateTime<Utc>)>,
}

/// A small deterministic generator (SplitMix64), so the demo is the same
/// every time it is seeded.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number from `low` to `high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1).unsigned_abs()) as i64
    }

    /// True about `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

struct Out {
    events: Vec<(Value, DateTime<Utc>)>,
    now: DateTime<Utc>,
}

impl Out {
    /// Adds an event that happened by now.
    fn push(&mut self, source: &str, event_type: &str, at: DateTime<Utc>, data: Value) -> Option<String> {
        if at > self.now {
            return None;
        }
        let id = format!("demo-h{:04}", self.events.len());
        self.events.push((
            json!({
                "specversion": "1.0",
                "id": id,
                "source": source,
                "type": event_type,
                "time": at.to_rfc3339_opts(SecondsFormat::Secs, true),
                "data": data,
            }),
            at,
        ));
        Some(id)
    }
}

pub fn history(now: DateTime<Utc>) -> History {
    let mut draw = Draw(0x00C0_FFEE);
    let mut out = Out { events: Vec::new(), now };
    let mut failures = Vec::new();
    let start = now - Duration::days(DAYS);
    for day in 0..DAYS {
        for (s, (site, ..)) in SITES.iter().enumerate() {
            let wms = format!("wms/{}", site.to_lowercase());
            let morning = start + Duration::days(day) + Duration::hours(13 + s as i64);
            for p in 0..POS_PER_DAY {
                let po = format!("PO-2{day:02}{s}{p}");
                let supplier = format!("SUP-{:03}", 17 + (draw.next() % 6) as usize * 9);
                let created = morning + Duration::minutes(draw.between(0, 240));
                let lines: Vec<(u32, i64)> = (1..=2).map(|l| (l, draw.between(4, 40) * 10)).collect();
                let promised_in = draw.between(2, 4);
                let promised = (created + Duration::days(promised_in)).date_naive();
                out.push(
                    "erp/sap-prod",
                    "po.created",
                    created,
                    json!({"site": site, "refs": {"po": po, "supplier": supplier}, "supplier": supplier,
                           "lines": lines.iter().map(|(l, q)| json!({"line": l, "item": format!("SKU-{}", 20400 + l * 7 + p as u32),
                               "qty": q, "uom": "EA", "requested_date": promised.to_string()})).collect::<Vec<_>>()}),
                );
                out.push(
                    "portal/supplier-hub",
                    "po.acknowledged",
                    created + Duration::minutes(draw.between(30, 360)),
                    json!({"site": site, "refs": {"po": po}, "supplier": supplier,
                           "lines": lines.iter().map(|(l, q)| json!({"line": l, "status": "accepted", "qty": q,
                               "promised_date": promised.to_string()})).collect::<Vec<_>>()}),
                );
                // Most arrive on time, some a day or two late, some short: every PO
                // older than a week has been received.
                let late = if draw.chance(20) { draw.between(1, 2) } else { -draw.between(0, 1) };
                let received_at = created + Duration::days(promised_in + late) + Duration::hours(draw.between(-3, 3));
                let received: Vec<Value> = lines
                    .iter()
                    .map(|(l, q)| {
                        let short = if draw.chance(12) { draw.between(1, 4) * 10 } else { 0 };
                        json!({"line": l, "item": format!("SKU-{}", 20400 + l * 7 + p as u32), "qty_received": (q - short).max(0)})
                    })
                    .collect();
                let asn = format!("ASN-{po}");
                out.push(
                    "portal/supplier-hub",
                    "asn.received",
                    received_at - Duration::minutes(draw.between(60, 300)),
                    json!({"site": site, "refs": {"po": po, "asn": asn}, "asn": asn,
                           "eta": received_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                           "lines": lines.iter().map(|(l, q)| json!({"line": l, "item": format!("SKU-{}", 20400 + l * 7 + p as u32),
                               "qty": q})).collect::<Vec<_>>()}),
                );
                let receipt = format!("RCV-{po}");
                out.push(
                    &wms,
                    "receipt.posted",
                    received_at,
                    json!({"site": site, "refs": {"po": po, "asn": asn, "receipt": receipt}, "receipt": receipt,
                           "lines": received}),
                );
                out.push(
                    &wms,
                    "putaway.completed",
                    received_at + Duration::minutes(draw.between(40, 240)),
                    json!({"site": site, "refs": {"po": po, "receipt": receipt}, "receipt": receipt,
                           "item": format!("SKU-{}", 20407 + p as u32), "qty": lines[0].1, "bin": format!("A-{:02}-{}", p + 1, s + 1)}),
                );
            }
            for o in 0..ORDERS_PER_DAY {
                let order = format!("SO-6{day:02}{s}{o}");
                let customer = format!("CUST-{}", 300 + (draw.next() % 20));
                let released = morning + Duration::minutes(draw.between(0, 480));
                let item = format!("SKU-{}", 30100 + o * 3);
                out.push(
                    "erp/sap-prod",
                    "order.released",
                    released,
                    json!({"site": site, "refs": {"order": order, "customer": customer}, "order": order, "customer": customer,
                           "channel": "edi", "lines": [{"line": 1, "item": item, "qty": 24}]}),
                );
                let mut allocated_at = released + Duration::minutes(draw.between(10, 90));
                if draw.chance(7) {
                    // Short of stock: the team moves some from the reserve
                    // location, and the order is allocated again.
                    let id = out.push(
                        &wms,
                        "exception.allocation_failed",
                        allocated_at,
                        json!({"site": site, "refs": {"order": order, "item": item}, "order": order, "item": item,
                               "requested_qty": 24, "available_qty": draw.between(0, 20)}),
                    );
                    let resolved = allocated_at + Duration::minutes(draw.between(30, 150));
                    if let Some(id) = id {
                        failures.push((id, resolved));
                    }
                    allocated_at = resolved + Duration::minutes(draw.between(5, 30));
                }
                out.push(
                    &wms,
                    "order.allocated",
                    allocated_at,
                    json!({"site": site, "refs": {"order": order}, "order": order,
                           "lines": [{"line": 1, "item": item, "qty_allocated": 24}]}),
                );
                let shipment = format!("SHP-6{day:02}{s}{o}");
                let dispatched = allocated_at + Duration::hours(draw.between(3, 28 + 6 * s as i64));
                out.push(
                    "tms/project44",
                    "shipment.dispatched",
                    dispatched,
                    json!({"site": site, "refs": {"order": order, "shipment": shipment, "carrier": "ODFL"},
                           "shipment": shipment, "carrier": "ODFL", "tracking": format!("ODFL-{shipment}"), "orders": [order]}),
                );
                // Delivered and confirmed within the 72 hours expected, and
                // invoiced within a working day of that.
                let delivered = dispatched + Duration::hours(draw.between(18, 50));
                let pod = delivered + Duration::minutes(draw.between(10, 20 * 60));
                out.push(
                    "tms/project44",
                    "delivery.confirmed",
                    pod,
                    json!({"site": site, "refs": {"shipment": shipment}, "shipment": shipment,
                           "delivered_at": delivered.to_rfc3339_opts(SecondsFormat::Secs, true), "signed_by": "DOCK"}),
                );
                let invoice = format!("INV-6{day:02}{s}{o}");
                out.push(
                    "erp/sap-prod",
                    "invoice.posted",
                    pod + Duration::minutes(draw.between(20, 180)),
                    json!({"site": site, "refs": {"order": order, "shipment": shipment, "invoice": invoice},
                           "invoice": invoice, "order": order, "shipment": shipment,
                           "amount": 24 * draw.between(20, 90), "currency": "USD"}),
                );
            }
        }
    }
    out.events.sort_by_key(|(_, at)| *at);
    History { events: out.events, failures: failures.into_iter().filter(|(_, at)| *at <= now).collect() }
}
