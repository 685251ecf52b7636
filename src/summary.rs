//! One line for people about an exception event, when the sender gave none.

use crate::event::{Body, Event};

/// A quantity without a trailing `.0`.
pub fn qty(q: f64) -> String {
    if q.fract() == 0.0 && q.abs() < 1e15 { format!("{}", q as i64) } else { format!("{q}") }
}

/// The sender's summary, or one made from the typed fields.
pub fn summarize(event: &Event) -> String {
    if let Some(summary) = &event.data.summary {
        return summary.clone();
    }
    match &event.data.body {
        Body::Integration(f) => {
            let status = f.http_status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
            format!("{} failed: {}{status}", f.operation, f.error_code)
        }
        Body::PartialReceipt { po, line, expected_qty, received_qty, .. } => {
            let diff = expected_qty - received_qty;
            if diff >= 0.0 {
                format!("{} short on {po} line {line}", qty(diff))
            } else {
                format!("{} over on {po} line {line}", qty(-diff))
            }
        }
        Body::SupplierDateChange { po, line, supplier, previous_date, promised_date } => {
            let line = line.map(|l| format!(" line {l}")).unwrap_or_default();
            format!("{supplier} moved {po}{line} from {previous_date} to {promised_date}")
        }
        Body::InventoryMismatch { item, erp_qty, wms_qty, bin, .. } => {
            let bin = bin.as_ref().map(|b| format!(" in bin {b}")).unwrap_or_default();
            format!("{item}: ERP {} vs WMS {}{bin}", qty(*erp_qty), qty(*wms_qty))
        }
        Body::DuplicateEvent { entity, original_id, duplicate_id } => {
            format!("Duplicate {entity} event {duplicate_id} of {original_id}")
        }
        Body::AllocationFailed { order, item, requested_qty, available_qty } => {
            format!("{order}: {} of {item} requested, {} available", qty(*requested_qty), qty(*available_qty))
        }
        Body::InvoiceTriggerFailed { invoice, shipment, order, error_code, .. } => {
            let what =
                invoice.as_ref().or(order.as_ref()).or(shipment.as_ref()).map(String::as_str).unwrap_or("a shipment");
            format!("Invoice for {what} not triggered: {error_code}")
        }
        Body::MilestoneOverdue { transaction, after, expected, .. } => {
            format!("{transaction}: no {} since {}", expected.label().to_lowercase(), after.label().to_lowercase())
        }
        _ => event.event_type.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::event::parse;

    fn summary_of(event_type: &str, data: serde_json::Value) -> String {
        let e = parse(&json!({"specversion": "1.0", "id": "1", "source": "s", "type": event_type,
            "time": "2026-11-24T15:42:10Z", "data": data}))
        .unwrap();
        summarize(&e)
    }

    #[test]
    fn summaries_read_like_a_person_wrote_them() {
        assert_eq!(
            summary_of(
                "exception.partial_receipt",
                json!({"po": "PO-1", "line": 2, "item": "I", "expected_qty": 240, "received_qty": 192})
            ),
            "48 short on PO-1 line 2"
        );
        assert_eq!(
            summary_of(
                "exception.inventory_mismatch",
                json!({"item": "SKU-1", "erp_qty": 120, "wms_qty": 96.5, "bin": "A-1"})
            ),
            "SKU-1: ERP 120 vs WMS 96.5 in bin A-1"
        );
        assert_eq!(
            summary_of(
                "exception.integration",
                json!({"system": "carrier", "operation": "tms.create_shipment",
                "error_code": "timeout", "message": "m", "retryable": true, "payload": {}})
            ),
            "tms.create_shipment failed: timeout"
        );
        assert_eq!(
            summary_of(
                "exception.partial_receipt",
                json!({"po": "P", "line": 1, "item": "I", "expected_qty": 1, "received_qty": 1, "summary": "given"})
            ),
            "given"
        );
    }
}
