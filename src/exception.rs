//! Exceptions: units of work in a queue.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
            | ExceptionKind::InvoiceTriggerFailed => Severity::Medium,
        }
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
        }
    }
}

/// One row of a queue list: what a person needs to pick what to work on.
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
}

/// A search over the exception list: free text matched against the summary,
/// site, queue, type and every business key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    text: Option<String>,
}

/// Why a list query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListQueryError {
    #[error("the search text is longer than {max} characters")]
    TooLong { max: usize },
}

impl ListQuery {
    /// The longest search text accepted, in characters.
    pub const MAX_TEXT: usize = 200;
    /// How many rows one list answer holds at most.
    pub const LIMIT: u32 = 200;

    /// Parses what a person typed into the filter box.
    pub fn parse(text: &str) -> Result<Self, ListQueryError> {
        let text = text.trim();
        if text.chars().count() > Self::MAX_TEXT {
            return Err(ListQueryError::TooLong { max: Self::MAX_TEXT });
        }
        Ok(Self { text: (!text.is_empty()).then(|| text.to_owned()) })
    }

    /// The text to search for, if any.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_kinds_use_the_contract_names() {
        assert_eq!("exception.partial_receipt".parse::<ExceptionKind>(), Ok(ExceptionKind::PartialReceipt));
        assert!("exception.unknown".parse::<ExceptionKind>().is_err());
    }

    #[test]
    fn a_blank_query_matches_everything() {
        assert_eq!(ListQuery::parse("   ").unwrap().text(), None);
        assert_eq!(ListQuery::parse(" PO-1 ").unwrap().text(), Some("PO-1"));
    }

    #[test]
    fn an_overlong_query_is_refused() {
        let text = "x".repeat(ListQuery::MAX_TEXT + 1);
        assert_eq!(ListQuery::parse(&text), Err(ListQueryError::TooLong { max: ListQuery::MAX_TEXT }));
    }
}
