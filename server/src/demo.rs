//! Demo data: realistic exceptions across three sites, for trying the console.

use chrono::{DateTime, Duration, Utc};
use crossdock::{BusinessRefs, ExceptionKind, RefKind, Severity, Status};
use serde_json::json;

use crate::store::exceptions::NewException;

/// A demo site: code and IANA time zone.
pub const SITES: [(&str, &str); 3] = [
    ("DC-ATL", "America/New_York"),
    ("DC-DAL", "America/Chicago"),
    ("DC-RNO", "America/Los_Angeles"),
];

const SUPPLIERS: [&str; 5] = ["SUP-017", "SUP-022", "SUP-031", "SUP-048", "SUP-105"];
const ITEMS: [&str; 6] = [
    "SKU-20418",
    "SKU-30112",
    "SKU-11873",
    "SKU-40220",
    "SKU-27765",
    "SKU-50931",
];
const CARRIERS: [&str; 4] = ["ODFL", "XPO", "SAIA", "FEDEX-FRT"];
const STATUSES: [Status; 6] = [
    Status::New,
    Status::New,
    Status::Acknowledged,
    Status::InProgress,
    Status::New,
    Status::Waiting,
];

/// The demo exceptions, opened over the last few days before `now`.
pub fn exceptions(now: DateTime<Utc>) -> Vec<NewException> {
    let mut out = Vec::new();
    for i in 0..8 {
        out.push(partial_receipt(i));
        out.push(supplier_date_change(i));
        out.push(inventory_mismatch(i));
        out.push(carrier_timeout(i));
        out.push(invoice_trigger_failed(i));
    }
    out.push(allocation_failed(0));
    out.push(allocation_failed(1));
    let count = out.len() as i64;
    for (n, ex) in out.iter_mut().enumerate() {
        let n = n as i64;
        // Spread over about three days, newest last, at uneven intervals.
        ex.created_at = now - Duration::minutes((count - n) * 97 + (n * 37) % 53);
    }
    out
}

fn site(i: usize) -> &'static str {
    SITES[i % SITES.len()].0
}

fn status(i: usize) -> Status {
    STATUSES[i % STATUSES.len()]
}

fn base(kind: ExceptionKind, i: usize, severity: Severity, queue: &str) -> NewException {
    NewException {
        kind,
        status: status(i),
        severity,
        site: site(i).to_owned(),
        queue: queue.to_owned(),
        summary: String::new(),
        refs: BusinessRefs::new(),
        payload: json!({}),
        created_at: DateTime::<Utc>::UNIX_EPOCH,
    }
}

fn partial_receipt(i: usize) -> NewException {
    let po = format!("PO-{}", 10045 + i * 7);
    let line = 1 + i % 4;
    let item = ITEMS[i % ITEMS.len()];
    let supplier = SUPPLIERS[i % SUPPLIERS.len()];
    let expected = 240 - (i as i64) * 12;
    let received = expected - 12 - (i as i64 % 3) * 18;
    let mut ex = base(
        ExceptionKind::PartialReceipt,
        i,
        if i.is_multiple_of(3) {
            Severity::High
        } else {
            Severity::Medium
        },
        "receiving",
    );
    ex.summary = format!("{} EA short on {po} line {line}", expected - received);
    ex.refs = BusinessRefs::new()
        .with(RefKind::Po, &po)
        .with(RefKind::Asn, format!("ASN-{}", 55120 + i * 3))
        .with(RefKind::Receipt, format!("RCV-{}", 90311 + i * 5))
        .with(RefKind::Supplier, supplier)
        .with(RefKind::Item, item);
    ex.payload = json!({
        "site": ex.site, "refs": ex.refs,
        "po": po, "line": line, "item": item,
        "expected_qty": expected, "received_qty": received,
        "summary": ex.summary,
    });
    ex
}

fn supplier_date_change(i: usize) -> NewException {
    let po = format!("PO-{}", 10100 + i * 11);
    let supplier = SUPPLIERS[(i + 2) % SUPPLIERS.len()];
    let previous = format!("2026-12-{:02}", 1 + i);
    let promised = format!("2026-12-{:02}", 8 + i * 2);
    let mut ex = base(
        ExceptionKind::SupplierDateChange,
        i + 1,
        if i % 4 == 1 {
            Severity::High
        } else {
            Severity::Medium
        },
        "purchasing",
    );
    ex.summary = format!("{supplier} moved {po} line 1 from {previous} to {promised}");
    ex.refs = BusinessRefs::new()
        .with(RefKind::Po, &po)
        .with(RefKind::Supplier, supplier)
        .with(RefKind::Item, ITEMS[(i + 1) % ITEMS.len()]);
    ex.payload = json!({
        "site": ex.site, "refs": ex.refs,
        "po": po, "line": 1, "supplier": supplier,
        "previous_date": previous, "promised_date": promised,
        "summary": ex.summary,
    });
    ex
}

fn inventory_mismatch(i: usize) -> NewException {
    let item = ITEMS[(i + 3) % ITEMS.len()];
    let erp = 120 + (i as i64) * 15;
    let wms = erp - 6 - (i as i64 % 4) * 9;
    let bin = format!("A-{:02}-{:02}", 10 + i, 1 + i % 5);
    let mut ex = base(
        ExceptionKind::InventoryMismatch,
        i + 2,
        if i.is_multiple_of(5) {
            Severity::High
        } else {
            Severity::Low
        },
        "inventory-control",
    );
    ex.summary = format!("{item}: ERP {erp} vs WMS {wms} in bin {bin}");
    ex.refs = BusinessRefs::new().with(RefKind::Item, item);
    ex.payload = json!({
        "site": ex.site, "refs": ex.refs,
        "item": item, "erp_qty": erp, "wms_qty": wms, "bin": bin,
        "summary": ex.summary,
    });
    ex
}

fn carrier_timeout(i: usize) -> NewException {
    let carrier = CARRIERS[i % CARRIERS.len()];
    let order = format!("SO-{}", 77812 + i * 13);
    let shipment = format!("SHP-{}", 4471 + i * 9);
    let mut ex = base(
        ExceptionKind::Integration,
        i + 3,
        if i.is_multiple_of(2) {
            Severity::Critical
        } else {
            Severity::High
        },
        "transportation",
    );
    ex.summary = format!("{carrier} rating API timed out creating shipment {shipment}");
    ex.refs = BusinessRefs::new()
        .with(RefKind::Order, &order)
        .with(RefKind::Shipment, &shipment)
        .with(RefKind::Carrier, carrier);
    ex.payload = json!({
        "site": ex.site, "refs": ex.refs,
        "system": "carrier", "operation": "tms.create_shipment", "error_code": "timeout",
        "message": "carrier rating API did not answer within 30 s",
        "retryable": true, "attempts": 3,
        "payload": {"shipment": shipment, "carrier": carrier, "service": "LTL", "pallets": 2 + i % 5},
        "summary": ex.summary,
    });
    ex
}

fn invoice_trigger_failed(i: usize) -> NewException {
    let order = format!("SO-{}", 78001 + i * 17);
    let shipment = format!("SHP-{}", 4600 + i * 7);
    let (code, message) = if i.is_multiple_of(2) {
        (
            "missing_tax_code",
            "ERP rejected the invoice: customer has no tax code for the ship-to state",
        )
    } else {
        (
            "price_mismatch",
            "ERP rejected the invoice: order price differs from contract price",
        )
    };
    let mut ex = base(
        ExceptionKind::InvoiceTriggerFailed,
        i + 4,
        Severity::Medium,
        "billing",
    );
    ex.summary = format!("Invoice for {order} not triggered: {code}");
    ex.refs = BusinessRefs::new()
        .with(RefKind::Order, &order)
        .with(RefKind::Shipment, &shipment)
        .with(RefKind::Customer, format!("CUST-{}", 310 + i));
    ex.payload = json!({
        "site": ex.site, "refs": ex.refs,
        "order": order, "shipment": shipment,
        "error_code": code, "message": message,
        "summary": ex.summary,
    });
    ex
}

fn allocation_failed(i: usize) -> NewException {
    let order = format!("SO-{}", 77901 + i * 3);
    let item = ITEMS[(i + 1) % ITEMS.len()];
    let mut ex = base(
        ExceptionKind::AllocationFailed,
        i,
        Severity::High,
        "inventory-control",
    );
    ex.summary = format!("{order}: 12 of {item} requested, {} available", 4 + i);
    ex.refs = BusinessRefs::new()
        .with(RefKind::Order, &order)
        .with(RefKind::Item, item);
    ex.payload = json!({
        "site": ex.site, "refs": ex.refs,
        "order": order, "item": item, "requested_qty": 12, "available_qty": 4 + i,
        "summary": ex.summary,
    });
    ex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_covers_every_site_and_the_main_exception_types() {
        let all = exceptions(Utc::now());
        assert!(all.len() >= 30, "a few dozen exceptions");
        for (code, _) in SITES {
            assert!(all.iter().any(|e| e.site == code), "{code} has exceptions");
        }
        for kind in [
            ExceptionKind::PartialReceipt,
            ExceptionKind::SupplierDateChange,
            ExceptionKind::InventoryMismatch,
            ExceptionKind::Integration,
            ExceptionKind::InvoiceTriggerFailed,
        ] {
            assert!(all.iter().any(|e| e.kind == kind), "{kind} present");
        }
    }

    #[test]
    fn demo_exceptions_are_opened_before_now() {
        let now = Utc::now();
        assert!(exceptions(now).iter().all(|e| e.created_at < now));
    }
}
