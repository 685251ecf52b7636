//! Lineage: the business transactions events belong to, how they link, and
//! the flow a transaction has reached.
//!
//! A transaction is named by the event's `correlationid`, or else by the
//! first of its keys that already names one, or else by the first of its
//! transaction keys (a PO before an order before a shipment...). Transaction
//! keys (PO, ASN, receipt, order, shipment, tracking number, invoice) are
//! indexed to the transaction that first carried them; an event carrying a
//! key indexed to another transaction links the two. Items, suppliers,
//! customers and sites are dimensions, never links.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use crate::ExceptionKind;
use crate::event::{AckLineStatus, Body, Event, EventType, MilestoneKind};
use crate::{BusinessRefs, RefKind, named_enum};

mod expectations;

pub use expectations::{ExpectationRule, ExpectationSet};

/// The kinds of key that identify a transaction, most telling first.
pub const TRANSACTION_KEYS: [RefKind; 7] = [
    RefKind::Po,
    RefKind::Order,
    RefKind::Shipment,
    RefKind::Asn,
    RefKind::Receipt,
    RefKind::Tracking,
    RefKind::Invoice,
];

/// A transaction key, e.g. `po:PO-10045`: the form correlation ids take.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TransactionKey {
    pub kind: RefKind,
    pub value: String,
}

impl TransactionKey {
    pub fn new(kind: RefKind, value: impl Into<String>) -> Self {
        Self { kind, value: value.into() }
    }

    /// Reads `kind:value` for a transaction kind (`po:PO-1`, `asn:ASN-7`).
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, value) = text.split_once(':')?;
        let kind: RefKind = kind.trim().parse().ok()?;
        let value = value.trim();
        (TRANSACTION_KEYS.contains(&kind) && !value.is_empty() && crate::text::is_one_line(value))
            .then(|| Self::new(kind, value))
    }

    /// The transaction keys among an event's refs, most telling first.
    pub fn of(refs: &BusinessRefs) -> Vec<TransactionKey> {
        TRANSACTION_KEYS.iter().filter_map(|k| refs.get(*k).map(|v| TransactionKey::new(*k, v))).collect()
    }
}

impl std::fmt::Display for TransactionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// Which transaction an event belongs to, as far as the event alone says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    /// The sender named it (`correlationid`).
    Given(String),
    /// Derived from the event's keys.
    Derived,
}

/// Where an event goes, decided from what the key index holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement<T> {
    /// The transaction: one found in the index, or the name of one to make.
    pub transaction: Found<T>,
    /// Keys not yet indexed, to index to this transaction.
    pub index: Vec<TransactionKey>,
    /// Other transactions that carry one of the event's keys: linked.
    pub links: BTreeSet<T>,
}

/// A transaction known by its id, or to be made (or found) by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found<T> {
    Known(T),
    Named(String),
}

/// Places an event: `named` as its correlation says, `keys` its transaction
/// keys (most telling first), `lookup` the key index. `None` when the event
/// names no transaction and carries no transaction key.
pub fn place<T: Clone + Ord>(
    named: &Named,
    keys: &[TransactionKey],
    lookup: impl Fn(&TransactionKey) -> Option<T>,
) -> Option<Placement<T>> {
    let indexed: Vec<(TransactionKey, Option<T>)> = keys.iter().map(|k| (k.clone(), lookup(k))).collect();
    let transaction = match named {
        Named::Given(name) => Found::Named(name.clone()),
        Named::Derived => match indexed.iter().find_map(|(_, t)| t.clone()) {
            Some(t) => Found::Known(t),
            None => Found::Named(keys.first()?.to_string()),
        },
    };
    let mut index = Vec::new();
    let mut links = BTreeSet::new();
    for (key, found) in indexed {
        match found {
            None => index.push(key),
            Some(other) if Found::Known(other.clone()) != transaction => {
                links.insert(other);
            }
            Some(_) => {}
        }
    }
    Some(Placement { transaction, index, links })
}

named_enum! {
    /// The flows a transaction follows.
    pub enum Flow ("flow") {
        /// A purchase order, from its creation to the goods put away.
        ProcureToReceive => "procure_to_receive",
        /// A customer order, from its release to its invoice.
        OrderToCash => "order_to_cash",
    }
}

impl Flow {
    /// Its stages, in order.
    pub fn stages(self) -> &'static [MilestoneKind] {
        use MilestoneKind as M;
        match self {
            Flow::ProcureToReceive => {
                &[M::PoCreated, M::PoAcknowledged, M::AsnReceived, M::ReceiptPosted, M::PutawayCompleted]
            }
            Flow::OrderToCash => &[
                M::OrderReleased,
                M::OrderAllocated,
                M::PickCompleted,
                M::ShipmentDispatched,
                M::ShipmentInTransit,
                M::DeliveryConfirmed,
                M::InvoicePosted,
            ],
        }
    }

    /// The flow a milestone belongs to (none for a stock snapshot).
    pub fn of_milestone(kind: MilestoneKind) -> Option<Flow> {
        [Flow::ProcureToReceive, Flow::OrderToCash].into_iter().find(|f| f.stages().contains(&kind))
    }

    /// The flow a transaction key suggests, before any milestone says.
    pub fn of_key(kind: RefKind) -> Option<Flow> {
        match kind {
            RefKind::Po | RefKind::Asn | RefKind::Receipt => Some(Flow::ProcureToReceive),
            RefKind::Order | RefKind::Shipment | RefKind::Tracking | RefKind::Invoice => Some(Flow::OrderToCash),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Flow::ProcureToReceive => "Procure to receive",
            Flow::OrderToCash => "Order to cash",
        }
    }
}

/// What lineage needs of one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub named: Named,
    /// Its transaction keys, most telling first.
    pub keys: Vec<TransactionKey>,
    /// The milestone it reports, if it is one.
    pub milestone: Option<MilestoneKind>,
    /// The flow it belongs to: its milestone's, else its first key's.
    pub flow: Option<Flow>,
    pub time: DateTime<Utc>,
    pub site: Option<String>,
    pub supplier: Option<String>,
    pub customer: Option<String>,
}

impl Facts {
    pub fn of(event: &Event) -> Self {
        let refs = event.business_refs();
        let keys = TransactionKey::of(&refs);
        let milestone = match event.event_type {
            EventType::Milestone(m) => Some(m),
            EventType::Exception(_) => None,
        };
        let named = match &event.correlation {
            Some(c) if !c.derived => Named::Given(c.id.to_string()),
            _ => Named::Derived,
        };
        let flow = milestone.and_then(Flow::of_milestone).or_else(|| keys.first().and_then(|k| Flow::of_key(k.kind)));
        Self {
            named,
            keys,
            milestone,
            flow,
            time: event.time.with_timezone(&Utc),
            site: event.data.site.clone(),
            supplier: refs.get(RefKind::Supplier).map(str::to_owned),
            customer: refs.get(RefKind::Customer).map(str::to_owned),
        }
    }
}

/// The facts people look for in a milestone: what was ordered, shipped or
/// received, dates promised, carrier and tracking, who signed.
pub fn key_facts(event: &Event) -> Vec<(&'static str, String)> {
    fn qty(q: f64) -> String {
        if q.fract() == 0.0 { format!("{q:.0}") } else { format!("{q}") }
    }
    fn total<T>(lines: &[T], q: impl Fn(&T) -> f64) -> String {
        let sum: f64 = lines.iter().map(q).sum();
        format!("{} in {} line(s)", qty(sum), lines.len())
    }
    let mut facts = Vec::new();
    match &event.data.body {
        Body::PoCreated { supplier, lines } => {
            facts.push(("supplier", supplier.clone()));
            facts.push(("ordered", total(lines, |l| l.qty)));
            if let Some(first) = lines.iter().map(|l| l.requested_date.to_string()).min() {
                facts.push(("requested", first));
            }
        }
        Body::PoAcknowledged { lines, .. } => {
            facts.push(("confirmed", total(lines, |l| l.qty)));
            let changed = lines.iter().filter(|l| l.status != AckLineStatus::Accepted).count();
            if changed > 0 {
                facts.push(("changed or rejected", format!("{changed} line(s)")));
            }
            if let Some(first) = lines.iter().map(|l| l.promised_date.to_string()).min() {
                facts.push(("promised", first));
            }
        }
        Body::AsnReceived { asn, eta, lines } => {
            facts.push(("ASN", asn.clone()));
            facts.push(("shipped", total(lines, |l| l.qty)));
            facts.push(("ETA", eta.to_rfc3339()));
        }
        Body::ReceiptPosted { receipt, lines } => {
            facts.push(("receipt", receipt.clone()));
            facts.push(("received", total(lines, |l| l.qty_received)));
        }
        Body::PutawayCompleted { item, qty: q, bin, .. } => {
            facts.push(("put away", format!("{} of {item}", qty(*q))));
            facts.push(("bin", bin.clone()));
        }
        Body::OrderReleased { customer, channel, lines, .. } => {
            facts.push(("customer", customer.clone()));
            facts.push(("channel", channel.as_str().replace('_', " ")));
            facts.push(("ordered", total(lines, |l| l.qty)));
        }
        Body::OrderAllocated { lines, .. } => facts.push(("allocated", total(lines, |l| l.qty_allocated))),
        Body::PickCompleted { lines, .. } => facts.push(("picked", total(lines, |l| l.qty_picked))),
        Body::ShipmentDispatched { shipment, carrier, tracking, .. } => {
            facts.push(("shipment", shipment.clone()));
            facts.push(("carrier", carrier.clone()));
            facts.push(("tracking", tracking.clone()));
        }
        Body::ShipmentInTransit { location, eta, .. } => {
            if let Some(l) = location {
                facts.push(("at", l.clone()));
            }
            if let Some(e) = eta {
                facts.push(("ETA", e.to_rfc3339()));
            }
        }
        Body::DeliveryConfirmed { delivered_at, signed_by, .. } => {
            facts.push(("delivered", delivered_at.to_rfc3339()));
            if let Some(s) = signed_by {
                facts.push(("signed by", s.clone()));
            }
        }
        Body::InvoicePosted { invoice, amount, currency, .. } => {
            facts.push(("invoice", invoice.clone()));
            facts.push(("amount", format!("{amount:.2} {currency}")));
        }
        _ => {}
    }
    facts
}

/// The stage an exception happened at: the one its kind is about, else the
/// stage after the last milestone before it.
pub fn stage_of_exception(
    kind: ExceptionKind,
    flow: Flow,
    at: DateTime<Utc>,
    milestones: &[(MilestoneKind, DateTime<Utc>)],
) -> Option<MilestoneKind> {
    use MilestoneKind as M;
    let by_kind = match kind {
        ExceptionKind::PartialReceipt => Some(M::ReceiptPosted),
        ExceptionKind::SupplierDateChange => Some(M::PoAcknowledged),
        ExceptionKind::AllocationFailed => Some(M::OrderAllocated),
        ExceptionKind::InvoiceTriggerFailed => Some(M::InvoicePosted),
        _ => None,
    };
    if let Some(stage) = by_kind.filter(|s| flow.stages().contains(s)) {
        return Some(stage);
    }
    let stages = flow.stages();
    let last = milestones
        .iter()
        .filter(|(m, t)| *t <= at && stages.contains(m))
        .filter_map(|(m, _)| stages.iter().position(|s| s == m))
        .max();
    match last {
        Some(i) => stages.get(i + 1).or(stages.get(i)).copied(),
        None => stages.first().copied(),
    }
}

/// Where a page of the transactions list ends: the last row's latest
/// milestone (milliseconds since the epoch; none when it has none) and id.
/// Written `1796000000000.42`, or `-.42`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionCursor {
    pub at: Option<i64>,
    pub id: i64,
}

impl TransactionCursor {
    /// Transactions listed per page.
    pub const PAGE: usize = 50;

    pub fn parse(text: &str) -> Option<Self> {
        let (at, id) = text.trim().split_once('.')?;
        let id = id.parse().ok().filter(|id: &i64| *id > 0)?;
        let at = if at == "-" { None } else { Some(at.parse().ok()?) };
        Some(Self { at, id })
    }
}

impl std::fmt::Display for TransactionCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some(at) => write!(f, "{at}.{}", self.id),
            None => write!(f, "-.{}", self.id),
        }
    }
}

/// A milestone's place in its flow: 1 for the first stage.
pub fn stage_number(kind: MilestoneKind) -> Option<(Flow, usize)> {
    let flow = Flow::of_milestone(kind)?;
    flow.stages().iter().position(|s| *s == kind).map(|i| (flow, i + 1))
}

/// Where a flow stands, given the milestones seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub flow: Flow,
    /// The furthest stage reached (1-based; 0 when none).
    pub reached: usize,
    /// Stages before the furthest one that never came: gaps.
    pub gaps: Vec<MilestoneKind>,
}

impl Progress {
    pub fn of(flow: Flow, seen: impl IntoIterator<Item = MilestoneKind>) -> Self {
        let seen: BTreeSet<MilestoneKind> = seen.into_iter().collect();
        let stages = flow.stages();
        let reached = stages.iter().rposition(|s| seen.contains(s)).map_or(0, |i| i + 1);
        let gaps = stages[..reached].iter().filter(|s| !seen.contains(s)).copied().collect();
        Self { flow, reached, gaps }
    }

    /// The stage reached, if any.
    pub fn stage(&self) -> Option<MilestoneKind> {
        self.reached.checked_sub(1).map(|i| self.flow.stages()[i])
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn key(s: &str) -> TransactionKey {
        TransactionKey::parse(s).unwrap()
    }

    #[test]
    fn a_page_cursor_reads_back_what_it_wrote_and_refuses_the_rest() {
        for c in [TransactionCursor { at: Some(1_796_000_000_000), id: 42 }, TransactionCursor { at: None, id: 7 }] {
            assert_eq!(TransactionCursor::parse(&c.to_string()), Some(c));
        }
        for bad in ["", "42", "1796.0", "-.-1", "x.4", "1.2.3", "-.", ".5"] {
            assert_eq!(TransactionCursor::parse(bad), None, "{bad}");
        }
    }

    fn refs(pairs: &[(RefKind, &str)]) -> BusinessRefs {
        let mut r = BusinessRefs::new();
        for (k, v) in pairs {
            r.insert(*k, *v);
        }
        r
    }

    #[test]
    fn only_transaction_kinds_are_keys() {
        assert_eq!(key("po:PO-1").to_string(), "po:PO-1");
        assert!(TransactionKey::parse("item:SKU-1").is_none(), "items are dimensions");
        assert!(TransactionKey::parse("po:").is_none());
        let keys = TransactionKey::of(&refs(&[(RefKind::Asn, "A"), (RefKind::Item, "S"), (RefKind::Po, "P")]));
        assert_eq!(keys, [key("po:P"), key("asn:A")], "the most telling first, dimensions left out");
    }

    #[test]
    fn an_asn_before_its_po_and_the_po_after_find_one_another() {
        let mut index: HashMap<TransactionKey, u32> = HashMap::new();
        // The ASN arrives first, carrying the PO it ships.
        let asn = place(&Named::Derived, &[key("po:P"), key("asn:A")], |k| index.get(k).copied()).unwrap();
        assert_eq!(asn.transaction, Found::Named("po:P".into()));
        assert_eq!(asn.index, [key("po:P"), key("asn:A")]);
        index.insert(key("po:P"), 1);
        index.insert(key("asn:A"), 1);
        // A receipt naming only the ASN lands on the same transaction.
        let receipt = place(&Named::Derived, &[key("asn:A"), key("receipt:R")], |k| index.get(k).copied()).unwrap();
        assert_eq!(receipt.transaction, Found::Known(1));
        assert_eq!(receipt.index, [key("receipt:R")]);
        assert!(receipt.links.is_empty());
    }

    #[test]
    fn a_shared_key_links_two_transactions() {
        let index: HashMap<TransactionKey, u32> = [(key("order:O"), 7), (key("shipment:S"), 9)].into();
        let dispatch = place(&Named::Derived, &[key("order:O"), key("shipment:S")], |k| index.get(k).copied()).unwrap();
        assert_eq!(dispatch.transaction, Found::Known(7));
        assert_eq!(dispatch.links, BTreeSet::from([9]));
        let given = place(&Named::Given("wave:42".into()), &[key("order:O")], |k| index.get(k).copied()).unwrap();
        assert_eq!(given.transaction, Found::Named("wave:42".into()));
        assert_eq!(given.links, BTreeSet::from([7]), "a named transaction links to the one its keys are in");
        assert!(place::<u32>(&Named::Derived, &[], |_| None).is_none(), "nothing to place it by");
    }

    #[test]
    fn an_exception_sits_at_the_stage_it_is_about_or_after_the_last_milestone() {
        use MilestoneKind as M;
        let t = |h: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 24, h, 0, 0).unwrap();
        let seen = [(M::PoCreated, t(8)), (M::PoAcknowledged, t(9))];
        let on = |kind, at| stage_of_exception(kind, Flow::ProcureToReceive, at, &seen);
        assert_eq!(on(ExceptionKind::PartialReceipt, t(10)), Some(M::ReceiptPosted));
        assert_eq!(on(ExceptionKind::Integration, t(10)), Some(M::AsnReceived), "the stage it was waiting for");
        assert_eq!(on(ExceptionKind::Integration, t(7)), Some(M::PoCreated));
    }

    #[test]
    fn the_facts_of_a_receipt_are_what_came_in() {
        let event = crate::event::parse(&serde_json::json!({"specversion": "1.0", "id": "r", "source": "wms/x",
            "type": "receipt.posted", "time": "2026-11-24T15:00:00Z",
            "data": {"receipt": "RCV-1", "lines": [{"line": 1, "item": "A", "qty_received": 192},
                                                   {"line": 2, "item": "B", "qty_received": 8}]}}))
        .unwrap();
        assert_eq!(key_facts(&event), [("receipt", "RCV-1".to_owned()), ("received", "200 in 2 line(s)".to_owned())]);
    }

    #[test]
    fn progress_shows_the_furthest_stage_and_the_gaps_before_it() {
        use MilestoneKind as M;
        let p = Progress::of(Flow::ProcureToReceive, [M::PoCreated, M::ReceiptPosted]);
        assert_eq!(p.reached, 4);
        assert_eq!(p.stage(), Some(M::ReceiptPosted));
        assert_eq!(p.gaps, [M::PoAcknowledged, M::AsnReceived]);
        assert_eq!(Progress::of(Flow::OrderToCash, []).stage(), None);
        assert_eq!(stage_number(M::DeliveryConfirmed), Some((Flow::OrderToCash, 6)));
        assert_eq!(stage_number(M::InventorySnapshot), None);
    }
}
