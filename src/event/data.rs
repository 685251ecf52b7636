//! The `data` of every event type of the contract.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::BusinessDate;
use crate::{RefKind, named_enum};

type Extra = Map<String, Value>;

named_enum! {
    /// How a supplier answered one purchase order line.
    pub enum AckLineStatus ("line status") {
        Accepted => "accepted",
        Changed => "changed",
        Rejected => "rejected",
    }
}

named_enum! {
    /// Where an order came from.
    pub enum Channel ("channel") {
        Ecommerce => "ecommerce",
        Edi => "edi",
        InsideSales => "inside_sales",
    }
}

named_enum! {
    /// The system an integration failure happened in.
    pub enum System ("system") {
        Erp => "erp",
        Wms => "wms",
        Tms => "tms",
        Carrier => "carrier",
        Portal => "portal",
        Edi => "edi",
        Ecommerce => "ecommerce",
        Crm => "crm",
    }
}

/// A line of a new purchase order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoLine {
    pub line: u32,
    pub item: String,
    pub qty: f64,
    pub uom: String,
    pub requested_date: BusinessDate,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A supplier's answer to one purchase order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoAckLine {
    pub line: u32,
    pub status: AckLineStatus,
    pub qty: f64,
    pub promised_date: BusinessDate,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A line that carries an item and a quantity (ASN, order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemLine {
    pub line: u32,
    pub item: String,
    pub qty: f64,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A received line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub line: u32,
    pub item: String,
    pub qty_received: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An allocated line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocatedLine {
    pub line: u32,
    pub item: String,
    pub qty_allocated: f64,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A picked line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PickedLine {
    pub line: u32,
    pub item: String,
    pub qty_picked: f64,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The type-specific part of an event's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    PoCreated {
        supplier: String,
        lines: Vec<PoLine>,
    },
    PoAcknowledged {
        supplier: String,
        lines: Vec<PoAckLine>,
    },
    AsnReceived {
        asn: String,
        eta: DateTime<FixedOffset>,
        lines: Vec<ItemLine>,
    },
    ReceiptPosted {
        receipt: String,
        lines: Vec<ReceiptLine>,
    },
    PutawayCompleted {
        receipt: String,
        item: String,
        qty: f64,
        bin: String,
    },
    InventorySnapshot {
        item: String,
        erp_qty: f64,
        wms_qty: f64,
    },
    OrderReleased {
        order: String,
        customer: String,
        channel: Channel,
        lines: Vec<ItemLine>,
    },
    OrderAllocated {
        order: String,
        lines: Vec<AllocatedLine>,
    },
    PickCompleted {
        order: String,
        lines: Vec<PickedLine>,
    },
    ShipmentDispatched {
        shipment: String,
        carrier: String,
        tracking: String,
        orders: Vec<String>,
    },
    ShipmentInTransit {
        shipment: String,
        location: Option<String>,
        eta: Option<DateTime<FixedOffset>>,
    },
    DeliveryConfirmed {
        shipment: String,
        delivered_at: DateTime<FixedOffset>,
        signed_by: Option<String>,
    },
    InvoicePosted {
        invoice: String,
        order: Option<String>,
        shipment: Option<String>,
        amount: f64,
        currency: String,
    },
    Integration(IntegrationFailure),
    PartialReceipt {
        po: String,
        line: u32,
        item: String,
        expected_qty: f64,
        received_qty: f64,
    },
    SupplierDateChange {
        po: String,
        line: Option<u32>,
        supplier: String,
        previous_date: BusinessDate,
        promised_date: BusinessDate,
    },
    InventoryMismatch {
        item: String,
        erp_qty: f64,
        wms_qty: f64,
        bin: Option<String>,
        lot: Option<String>,
    },
    DuplicateEvent {
        original_id: String,
        duplicate_id: String,
        entity: String,
    },
    AllocationFailed {
        order: String,
        item: String,
        requested_qty: f64,
        available_qty: f64,
    },
    InvoiceTriggerFailed {
        invoice: Option<String>,
        shipment: Option<String>,
        order: Option<String>,
        error_code: String,
        message: String,
    },
    /// Raised by Crossdock: `expected` did not follow `after` by `due_at`.
    MilestoneOverdue {
        transaction: String,
        after: super::MilestoneKind,
        expected: super::MilestoneKind,
        due_at: DateTime<FixedOffset>,
    },
}

/// A failed exchange between systems, with the message to replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationFailure {
    pub system: System,
    pub operation: String,
    pub error_code: String,
    pub message: String,
    pub http_status: Option<u16>,
    pub retryable: bool,
    pub attempts: Option<u32>,
    /// The original message, kept for replay.
    pub payload: Value,
    pub payload_content_type: Option<String>,
}

impl Body {
    /// The business keys named by the type-specific fields.
    pub fn keys(&self) -> Vec<(RefKind, &str)> {
        use RefKind as K;
        let mut keys: Vec<(RefKind, &str)> = Vec::new();
        match self {
            Body::PoCreated { supplier, .. } | Body::PoAcknowledged { supplier, .. } => {
                keys.push((K::Supplier, supplier))
            }
            Body::AsnReceived { asn, .. } => keys.push((K::Asn, asn)),
            Body::ReceiptPosted { receipt, .. } => keys.push((K::Receipt, receipt)),
            Body::PutawayCompleted { receipt, item, .. } => {
                keys.extend([(K::Receipt, receipt.as_str()), (K::Item, item.as_str())])
            }
            Body::InventorySnapshot { item, .. } | Body::InventoryMismatch { item, .. } => keys.push((K::Item, item)),
            Body::OrderReleased { order, customer, .. } => {
                keys.extend([(K::Order, order.as_str()), (K::Customer, customer.as_str())])
            }
            Body::OrderAllocated { order, .. } | Body::PickCompleted { order, .. } => keys.push((K::Order, order)),
            Body::ShipmentDispatched { shipment, carrier, tracking, .. } => keys.extend([
                (K::Shipment, shipment.as_str()),
                (K::Carrier, carrier.as_str()),
                (K::Tracking, tracking.as_str()),
            ]),
            Body::ShipmentInTransit { shipment, .. } | Body::DeliveryConfirmed { shipment, .. } => {
                keys.push((K::Shipment, shipment))
            }
            Body::InvoicePosted { invoice, order, shipment, .. } => {
                keys.push((K::Invoice, invoice));
                keys.extend(order.as_deref().map(|o| (K::Order, o)));
                keys.extend(shipment.as_deref().map(|s| (K::Shipment, s)));
            }
            Body::Integration(_) | Body::DuplicateEvent { .. } | Body::MilestoneOverdue { .. } => {}
            Body::PartialReceipt { po, item, .. } => keys.extend([(K::Po, po.as_str()), (K::Item, item.as_str())]),
            Body::SupplierDateChange { po, supplier, .. } => {
                keys.extend([(K::Po, po.as_str()), (K::Supplier, supplier.as_str())])
            }
            Body::AllocationFailed { order, item, .. } => {
                keys.extend([(K::Order, order.as_str()), (K::Item, item.as_str())])
            }
            Body::InvoiceTriggerFailed { invoice, shipment, order, .. } => {
                keys.extend(invoice.as_deref().map(|v| (K::Invoice, v)));
                keys.extend(shipment.as_deref().map(|v| (K::Shipment, v)));
                keys.extend(order.as_deref().map(|v| (K::Order, v)));
            }
        }
        keys
    }

    /// The error code of a failure, when the type has one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Body::Integration(f) => Some(&f.error_code),
            Body::InvoiceTriggerFailed { error_code, .. } => Some(error_code),
            _ => None,
        }
    }
}
