//! Reading the type-specific fields of `data`.

use super::EventType;
use super::data::{AllocatedLine, Body, IntegrationFailure, ItemLine, PickedLine, PoAckLine, PoLine, ReceiptLine};
use super::reader::{Obj, Problems};
use crate::ExceptionKind as E;
use crate::event::MilestoneKind as M;

/// Reads the fields of `data` that `kind` defines. Returns `None` when any of
/// them is wrong; every problem is recorded.
pub(crate) fn body(kind: EventType, o: &mut Obj<'_>, p: &mut Problems) -> Option<Body> {
    match kind {
        EventType::Milestone(m) => milestone(m, o, p),
        EventType::Exception(e) => exception(e, o, p),
    }
}

fn milestone(kind: M, o: &mut Obj<'_>, p: &mut Problems) -> Option<Body> {
    Some(match kind {
        M::PoCreated => {
            let supplier = o.req_str("supplier", p);
            let lines = o.req_list("lines", p, |l, p| {
                let (line, item, qty) = (l.req_line("line", p), l.req_str("item", p), l.req_qty("qty", p));
                let (uom, requested_date) = (l.req_str("uom", p), l.req_date("requested_date", p));
                Some(PoLine {
                    line: line?,
                    item: item?,
                    qty: qty?,
                    uom: uom?,
                    requested_date: requested_date?,
                    extra: l.extras(),
                })
            });
            Body::PoCreated { supplier: supplier?, lines: lines? }
        }
        M::PoAcknowledged => {
            let supplier = o.req_str("supplier", p);
            let lines = o.req_list("lines", p, |l, p| {
                let (line, status) = (l.req_line("line", p), l.req_enum("status", p));
                let (qty, promised_date) = (l.req_qty("qty", p), l.req_date("promised_date", p));
                Some(PoAckLine {
                    line: line?,
                    status: status?,
                    qty: qty?,
                    promised_date: promised_date?,
                    extra: l.extras(),
                })
            });
            Body::PoAcknowledged { supplier: supplier?, lines: lines? }
        }
        M::AsnReceived => {
            let (asn, eta) = (o.req_str("asn", p), o.req_time("eta", p));
            let lines = o.req_list("lines", p, item_line);
            Body::AsnReceived { asn: asn?, eta: eta?, lines: lines? }
        }
        M::ReceiptPosted => {
            let receipt = o.req_str("receipt", p);
            let lines = o.req_list("lines", p, |l, p| {
                let (line, item) = (l.req_line("line", p), l.req_str("item", p));
                let (qty_received, lot) = (l.req_qty("qty_received", p), l.opt_str("lot", p));
                Some(ReceiptLine { line: line?, item: item?, qty_received: qty_received?, lot, extra: l.extras() })
            });
            Body::ReceiptPosted { receipt: receipt?, lines: lines? }
        }
        M::PutawayCompleted => {
            let (receipt, item) = (o.req_str("receipt", p), o.req_str("item", p));
            let (qty, bin) = (o.req_qty("qty", p), o.req_str("bin", p));
            Body::PutawayCompleted { receipt: receipt?, item: item?, qty: qty?, bin: bin? }
        }
        M::InventorySnapshot => {
            let (item, erp_qty, wms_qty) = (o.req_str("item", p), o.req_qty("erp_qty", p), o.req_qty("wms_qty", p));
            Body::InventorySnapshot { item: item?, erp_qty: erp_qty?, wms_qty: wms_qty? }
        }
        M::OrderReleased => {
            let (order, customer) = (o.req_str("order", p), o.req_str("customer", p));
            let channel = o.req_enum("channel", p);
            let lines = o.req_list("lines", p, item_line);
            Body::OrderReleased { order: order?, customer: customer?, channel: channel?, lines: lines? }
        }
        M::OrderAllocated => {
            let order = o.req_str("order", p);
            let lines = o.req_list("lines", p, |l, p| {
                let (line, item, qty) = (l.req_line("line", p), l.req_str("item", p), l.req_qty("qty_allocated", p));
                Some(AllocatedLine { line: line?, item: item?, qty_allocated: qty?, extra: l.extras() })
            });
            Body::OrderAllocated { order: order?, lines: lines? }
        }
        M::PickCompleted => {
            let order = o.req_str("order", p);
            let lines = o.req_list("lines", p, |l, p| {
                let (line, item, qty) = (l.req_line("line", p), l.req_str("item", p), l.req_qty("qty_picked", p));
                Some(PickedLine { line: line?, item: item?, qty_picked: qty?, extra: l.extras() })
            });
            Body::PickCompleted { order: order?, lines: lines? }
        }
        M::ShipmentDispatched => {
            let (shipment, carrier) = (o.req_str("shipment", p), o.req_str("carrier", p));
            let (tracking, orders) = (o.req_str("tracking", p), o.req_strings("orders", p));
            Body::ShipmentDispatched { shipment: shipment?, carrier: carrier?, tracking: tracking?, orders: orders? }
        }
        M::ShipmentInTransit => {
            let shipment = o.req_str("shipment", p);
            let (location, eta) = (o.opt_str("location", p), o.opt_time("eta", p));
            Body::ShipmentInTransit { shipment: shipment?, location, eta }
        }
        M::DeliveryConfirmed => {
            let (shipment, delivered_at) = (o.req_str("shipment", p), o.req_time("delivered_at", p));
            let signed_by = o.opt_str("signed_by", p);
            Body::DeliveryConfirmed { shipment: shipment?, delivered_at: delivered_at?, signed_by }
        }
        M::InvoicePosted => {
            let invoice = o.req_str("invoice", p);
            let (order, shipment) = (o.opt_str("order", p), o.opt_str("shipment", p));
            let amount = o.req_amount("amount", p);
            let currency = o.req_str("currency", p).and_then(|c| {
                if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) {
                    Some(c)
                } else {
                    p.push(o.ptr("currency"), "must be an ISO 4217 code such as USD");
                    None
                }
            });
            Body::InvoicePosted { invoice: invoice?, order, shipment, amount: amount?, currency: currency? }
        }
    })
}

fn item_line(l: &mut Obj<'_>, p: &mut Problems) -> Option<ItemLine> {
    let (line, item, qty) = (l.req_line("line", p), l.req_str("item", p), l.req_qty("qty", p));
    Some(ItemLine { line: line?, item: item?, qty: qty?, extra: l.extras() })
}

fn exception(kind: E, o: &mut Obj<'_>, p: &mut Problems) -> Option<Body> {
    Some(match kind {
        E::Integration => {
            let system = o.req_enum("system", p);
            let (operation, error_code) = (o.req_str("operation", p), o.req_str("error_code", p));
            let message = o.req_text("message", p);
            let http_status = o.opt_count("http_status", 100, 599, p).map(|n| n as u16);
            let retryable = o.req_bool("retryable", p);
            let attempts = o.opt_count("attempts", 0, 1_000_000, p).map(|n| n as u32);
            let payload = o.raw("payload").cloned();
            if payload.is_none() {
                p.push(o.ptr("payload"), "is required: the original message, kept for replay");
            }
            let payload_content_type = o.opt_str("payload_content_type", p);
            Body::Integration(IntegrationFailure {
                system: system?,
                operation: operation?,
                error_code: error_code?,
                message: message?,
                http_status,
                retryable: retryable?,
                attempts,
                payload: payload?,
                payload_content_type,
            })
        }
        E::PartialReceipt => {
            let (po, line, item) = (o.req_str("po", p), o.req_line("line", p), o.req_str("item", p));
            let (expected, received) = (o.req_qty("expected_qty", p), o.req_qty("received_qty", p));
            Body::PartialReceipt { po: po?, line: line?, item: item?, expected_qty: expected?, received_qty: received? }
        }
        E::SupplierDateChange => {
            let po = o.req_str("po", p);
            let line = o.opt_count("line", 1, u64::from(u32::MAX), p).map(|n| n as u32);
            let supplier = o.req_str("supplier", p);
            let (previous, promised) = (o.req_date("previous_date", p), o.req_date("promised_date", p));
            Body::SupplierDateChange {
                po: po?,
                line,
                supplier: supplier?,
                previous_date: previous?,
                promised_date: promised?,
            }
        }
        E::InventoryMismatch => {
            let (item, erp_qty, wms_qty) = (o.req_str("item", p), o.req_qty("erp_qty", p), o.req_qty("wms_qty", p));
            let (bin, lot) = (o.opt_str("bin", p), o.opt_str("lot", p));
            Body::InventoryMismatch { item: item?, erp_qty: erp_qty?, wms_qty: wms_qty?, bin, lot }
        }
        E::DuplicateEvent => {
            let (original_id, duplicate_id) = (o.req_str("original_id", p), o.req_str("duplicate_id", p));
            let entity = o.req_str("entity", p);
            Body::DuplicateEvent { original_id: original_id?, duplicate_id: duplicate_id?, entity: entity? }
        }
        E::AllocationFailed => {
            let (order, item) = (o.req_str("order", p), o.req_str("item", p));
            let (requested, available) = (o.req_qty("requested_qty", p), o.req_qty("available_qty", p));
            Body::AllocationFailed { order: order?, item: item?, requested_qty: requested?, available_qty: available? }
        }
        E::InvoiceTriggerFailed => {
            let invoice = o.opt_str("invoice", p);
            let (shipment, order) = (o.opt_str("shipment", p), o.opt_str("order", p));
            let (error_code, message) = (o.req_str("error_code", p), o.req_text("message", p));
            Body::InvoiceTriggerFailed { invoice, shipment, order, error_code: error_code?, message: message? }
        }
        E::MilestoneOverdue => {
            // A transaction name is a key kind and a key value: longer than a key.
            let (transaction, due_at) = (o.req_text("transaction", p), o.req_time("due_at", p));
            let (after, expected) = (o.req_enum("after", p), o.req_enum("expected", p));
            Body::MilestoneOverdue { transaction: transaction?, after: after?, expected: expected?, due_at: due_at? }
        }
    })
}
