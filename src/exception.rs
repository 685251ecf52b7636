//! Exceptions: units of work in a queue.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sla::SlaSnapshot;
use crate::{BusinessRefs, Severity, Status, named_enum};

/// The identity of an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExceptionId(i64);

impl ExceptionId {
    pub const fn new(raw: i64) -> Self {
        Self(raw)
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for ExceptionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EX-{}", self.0)
    }
}

named_enum! {
    /// The exception types of the event contract.
    pub enum ExceptionKind ("exception type") {
        Integration => "exception.integration",
        PartialReceipt => "exception.partial_receipt",
        SupplierDateChange => "exception.supplier_date_change",
        InventoryMismatch => "exception.inventory_mismatch",
        DuplicateEvent => "exception.duplicate_event",
        AllocationFailed => "exception.allocation_failed",
        InvoiceTriggerFailed => "exception.invoice_trigger_failed",
        /// Raised by Crossdock itself: an expected milestone did not come.
        MilestoneOverdue => "exception.milestone_overdue",
    }
}

impl ExceptionKind {
    /// The severity of an exception of this type when neither the event nor a
    /// routing rule gives one.
    pub const fn default_severity(self) -> Severity {
        match self {
            ExceptionKind::Integration | ExceptionKind::AllocationFailed => Severity::High,
            ExceptionKind::DuplicateEvent => Severity::Low,
            ExceptionKind::PartialReceipt
            | ExceptionKind::SupplierDateChange
            | ExceptionKind::InventoryMismatch
            | ExceptionKind::InvoiceTriggerFailed
            | ExceptionKind::MilestoneOverdue => Severity::Medium,
        }
    }

    /// Whether senders may report it; the others Crossdock raises itself.
    pub const fn from_senders(self) -> bool {
        !matches!(self, ExceptionKind::MilestoneOverdue)
    }

    /// A word for people.
    pub const fn label(self) -> &'static str {
        match self {
            ExceptionKind::Integration => "Integration failure",
            ExceptionKind::PartialReceipt => "Partial receipt",
            ExceptionKind::SupplierDateChange => "Supplier date change",
            ExceptionKind::InventoryMismatch => "Inventory mismatch",
            ExceptionKind::DuplicateEvent => "Duplicate event",
            ExceptionKind::AllocationFailed => "Allocation failed",
            ExceptionKind::InvoiceTriggerFailed => "Invoice trigger failed",
            ExceptionKind::MilestoneOverdue => "Milestone overdue",
        }
    }
}

/// One row of a queue view: what a person needs to pick what to work on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionListItem {
    pub id: ExceptionId,
    pub kind: ExceptionKind,
    pub status: Status,
    pub severity: Severity,
    pub site: String,
    pub queue: String,
    pub summary: String,
    pub refs: BusinessRefs,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// User name of the person working it.
    pub assignee: Option<String>,
    /// How many events reported this problem.
    pub occurrences: i64,
    /// Bumped by every change; actions carry the version the person saw.
    pub version: i64,
    /// The SLA the list shows: the running clock due first.
    pub sla: SlaSnapshot,
    /// Where a replay of its message stands, if one was asked for.
    #[serde(default)]
    pub replay: Option<crate::replay::ReplayState>,
}

/// Everything stored about one exception.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionDetail {
    pub item: ExceptionListItem,
    pub acknowledge: SlaSnapshot,
    pub resolve: SlaSnapshot,
    /// The business transaction it belongs to.
    pub correlation_id: Option<String>,
    /// The event's `data`, as received.
    pub payload: serde_json::Value,
    /// The event that opened it, as received, when it is still kept.
    pub event: Option<serde_json::Value>,
    /// The SLA policy version it started under.
    pub sla_policy_version: Option<i64>,
}

/// One event counted on an exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    pub received_at: DateTime<Utc>,
    pub source: String,
    pub event_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_kinds_use_the_contract_names() {
        assert_eq!("exception.partial_receipt".parse::<ExceptionKind>(), Ok(ExceptionKind::PartialReceipt));
        assert!("exception.unknown".parse::<ExceptionKind>().is_err());
    }
}
