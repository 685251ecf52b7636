//! Grouping: a repeat of the same problem is counted on the open exception
//! instead of being filed again.
//!
//! Two exception events are the same problem when they share a fingerprint:
//! the source that filed them, their type, site, business key and error
//! code. A source never groups into another source's exception.

use serde::{Deserialize, Serialize};

use crate::event::{Body, Event};
use crate::source::SourceName;
use crate::{BusinessRefs, RefKind};

/// The identity of a problem, e.g.
/// `wms|exception.partial_receipt|DC-ATL|po:PO-10045/line:2|`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of an exception event filed by `source`; `None` for
    /// a milestone.
    pub fn of(source: &SourceName, event: &Event) -> Option<Self> {
        let kind = event.exception_kind()?;
        let site = event.data.site.as_deref().unwrap_or("");
        let key = business_key(event);
        let code = event.data.body.error_code().unwrap_or("");
        Some(Fingerprint(format!("{source}|{kind}|{site}|{key}|{code}")))
    }

    /// A fingerprint read back from storage.
    pub fn from_stored(s: String) -> Self {
        Fingerprint(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The business key of an exception: what the problem is about.
fn business_key(event: &Event) -> String {
    let refs = event.business_refs();
    let or_any = |v: Option<&String>| v.map_or_else(|| "*".to_owned(), Clone::clone);
    match &event.data.body {
        Body::PartialReceipt { po, line, .. } => format!("po:{po}/line:{line}"),
        Body::SupplierDateChange { po, line, .. } => {
            format!("po:{po}/line:{}", line.map_or_else(|| "*".to_owned(), |l| l.to_string()))
        }
        Body::InventoryMismatch { item, bin, lot, .. } => {
            format!("item:{item}/bin:{}/lot:{}", or_any(bin.as_ref()), or_any(lot.as_ref()))
        }
        Body::DuplicateEvent { entity, original_id, .. } => format!("{entity}:{original_id}"),
        Body::AllocationFailed { order, item, .. } => format!("order:{order}/item:{item}"),
        Body::Integration(failure) => format!("{}:{}", failure.operation, primary(event, &refs)),
        Body::MilestoneOverdue { transaction, expected, .. } => format!("{transaction}/{expected}"),
        _ => primary(event, &refs),
    }
}

/// The subject, else the most specific business key, else the transaction,
/// else the event itself (which groups nothing).
fn primary(event: &Event, refs: &BusinessRefs) -> String {
    if let Some(subject) = &event.subject {
        return subject.clone();
    }
    const SPECIFIC_FIRST: [RefKind; 8] = [
        RefKind::Shipment,
        RefKind::Tracking,
        RefKind::Invoice,
        RefKind::Asn,
        RefKind::Receipt,
        RefKind::Order,
        RefKind::Po,
        RefKind::Item,
    ];
    SPECIFIC_FIRST
        .into_iter()
        .find_map(|k| refs.get(k).map(|v| format!("{k}:{v}")))
        .or_else(|| event.correlation.as_ref().map(|c| c.id.to_string()))
        .unwrap_or_else(|| format!("event:{}/{}", event.source, event.id))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::event::parse;

    fn event(id: &str, event_type: &str, data: Value) -> Event {
        parse(&json!({"specversion": "1.0", "id": id, "source": "mw/hub", "type": event_type,
            "time": "2026-11-24T16:05:00Z", "data": data}))
        .unwrap()
    }

    fn mw() -> SourceName {
        SourceName::parse("middleware").unwrap()
    }

    fn of(event: &Event) -> Option<Fingerprint> {
        Fingerprint::of(&mw(), event)
    }

    fn timeout(id: &str, shipment: &str, code: &str) -> Event {
        event(
            id,
            "exception.integration",
            json!({"site": "DC-DAL", "refs": {"shipment": shipment},
            "system": "carrier", "operation": "tms.create_shipment", "error_code": code,
            "message": "no answer", "retryable": true, "payload": {}}),
        )
    }

    #[test]
    fn a_repeat_of_the_same_failure_has_the_same_fingerprint() {
        let a = of(&timeout("1", "SHP-1", "timeout")).unwrap();
        let b = of(&timeout("2", "SHP-1", "timeout")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "middleware|exception.integration|DC-DAL|tms.create_shipment:shipment:SHP-1|timeout");
    }

    #[test]
    fn the_same_failure_from_another_source_is_another_problem() {
        let other = SourceName::parse("rogue").unwrap();
        let e = timeout("1", "SHP-1", "timeout");
        assert_ne!(Fingerprint::of(&other, &e), of(&e));
    }

    #[test]
    fn another_key_or_error_code_is_another_problem() {
        let a = of(&timeout("1", "SHP-1", "timeout")).unwrap();
        assert_ne!(a, of(&timeout("2", "SHP-2", "timeout")).unwrap());
        assert_ne!(a, of(&timeout("3", "SHP-1", "http_502")).unwrap());
    }

    #[test]
    fn partial_receipts_group_by_po_line_and_site() {
        let receipt = |id: &str, site: &str, line: u32| {
            event(
                id,
                "exception.partial_receipt",
                json!({"site": site, "po": "PO-1", "line": line,
                "item": "SKU-1", "expected_qty": 10, "received_qty": 8}),
            )
        };
        let a = of(&receipt("1", "DC-ATL", 2));
        assert_eq!(a, of(&receipt("2", "DC-ATL", 2)));
        assert_ne!(a, of(&receipt("3", "DC-ATL", 3)));
        assert_ne!(a, of(&receipt("4", "DC-DAL", 2)));
    }

    #[test]
    fn milestones_have_no_fingerprint() {
        let e = event("1", "inventory.snapshot", json!({"item": "SKU-1", "erp_qty": 1, "wms_qty": 1}));
        assert_eq!(of(&e), None);
    }
}
