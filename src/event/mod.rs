//! Events of the wire contract (CloudEvents 1.0), parsed into typed values.
//!
//! [`parse`] reads one event from JSON and reports every problem it finds with
//! the JSON pointer of the offending field. Fields the contract does not name
//! are kept, not dropped.

pub mod contract;
mod data;
mod parse_data;
mod reader;
pub mod reference;

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use data::{
    AckLineStatus, AllocatedLine, Body, Channel, IntegrationFailure, ItemLine, PickedLine, PoAckLine, PoLine,
    ReceiptLine, System,
};
use reader::{Obj, Problems};

use crate::{BusinessRefs, ExceptionKind, FieldProblem, RefKind, Severity, named_enum};

named_enum! {
    /// The milestone types: process state that lineage is drawn from.
    pub enum MilestoneKind ("milestone type") {
        PoCreated => "po.created",
        PoAcknowledged => "po.acknowledged",
        AsnReceived => "asn.received",
        ReceiptPosted => "receipt.posted",
        PutawayCompleted => "putaway.completed",
        InventorySnapshot => "inventory.snapshot",
        OrderReleased => "order.released",
        OrderAllocated => "order.allocated",
        PickCompleted => "pick.completed",
        ShipmentDispatched => "shipment.dispatched",
        ShipmentInTransit => "shipment.in_transit",
        DeliveryConfirmed => "delivery.confirmed",
        InvoicePosted => "invoice.posted",
    }
}

impl MilestoneKind {
    /// A few words for people, e.g. `ASN received`.
    pub const fn label(self) -> &'static str {
        match self {
            MilestoneKind::PoCreated => "PO created",
            MilestoneKind::PoAcknowledged => "PO acknowledged",
            MilestoneKind::AsnReceived => "ASN received",
            MilestoneKind::ReceiptPosted => "Receipt posted",
            MilestoneKind::PutawayCompleted => "Put away",
            MilestoneKind::InventorySnapshot => "Stock snapshot",
            MilestoneKind::OrderReleased => "Order released",
            MilestoneKind::OrderAllocated => "Order allocated",
            MilestoneKind::PickCompleted => "Picked",
            MilestoneKind::ShipmentDispatched => "Dispatched",
            MilestoneKind::ShipmentInTransit => "In transit",
            MilestoneKind::DeliveryConfirmed => "Delivered",
            MilestoneKind::InvoicePosted => "Invoiced",
        }
    }
}

/// The `type` of an event: a milestone or an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EventType {
    Milestone(MilestoneKind),
    Exception(ExceptionKind),
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Milestone(m) => m.as_str(),
            EventType::Exception(e) => e.as_str(),
        }
    }
}

impl std::str::FromStr for EventType {
    type Err = crate::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse()
            .map(EventType::Milestone)
            .or_else(|_| s.parse().map(EventType::Exception))
            .map_err(|_| crate::UnknownName { what: "event type", value: s.to_owned() })
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A business date: a calendar day, or an instant when the sender gives one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BusinessDate {
    Day(NaiveDate),
    Instant(DateTime<FixedOffset>),
}

impl BusinessDate {
    /// The year it falls in (as written, in its own offset).
    pub fn year(&self) -> i32 {
        use chrono::Datelike;
        match self {
            BusinessDate::Day(d) => d.year(),
            BusinessDate::Instant(t) => t.year(),
        }
    }
}

impl std::fmt::Display for BusinessDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BusinessDate::Day(d) => write!(f, "{d}"),
            BusinessDate::Instant(t) => write!(f, "{}", t.to_rfc3339()),
        }
    }
}

/// Every problem found in one event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s), the first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
pub struct InvalidEvent(pub Vec<FieldProblem>);

/// The kinds of key a transaction is derived from when an event names
/// none, the first present deciding.
pub const TRANSACTION_KEYS: [RefKind; 3] = [RefKind::Po, RefKind::Order, RefKind::Shipment];

/// The business transaction an event belongs to, e.g. `po:PO-10045`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CorrelationId(String);

impl CorrelationId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Derives the id from business keys: the first of
    /// [`TRANSACTION_KEYS`] present, as `po:<value>`.
    pub fn derive(refs: &BusinessRefs) -> Option<Self> {
        TRANSACTION_KEYS.into_iter().find_map(|kind| refs.get(kind).map(|v| CorrelationId(format!("{kind}:{v}"))))
    }
}

impl std::fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How an event's correlation id came about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correlation {
    pub id: CorrelationId,
    /// True when derived from business keys rather than sent.
    pub derived: bool,
}

/// A W3C Trace Context `traceparent` value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TraceParent(String);

impl TraceParent {
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.split('-').collect();
        let hex =
            |p: &str, len: usize| p.len() == len && p.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let zero = |p: &str| p.bytes().all(|b| b == b'0');
        let ok = parts.len() == 4
            && hex(parts[0], 2)
            && parts[0] != "ff"
            && hex(parts[1], 32)
            && !zero(parts[1])
            && hex(parts[2], 16)
            && !zero(parts[2])
            && hex(parts[3], 2);
        ok.then(|| TraceParent(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The `data` of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventData {
    pub site: Option<String>,
    /// The business keys the sender listed in `refs`.
    pub refs: BusinessRefs,
    /// Keys in `refs` of kinds the contract does not name, kept as sent.
    pub other_refs: Map<String, Value>,
    /// Exceptions only: the sender's severity.
    pub severity: Option<Severity>,
    /// Exceptions only: one line for people.
    pub summary: Option<String>,
    pub body: Body,
    /// Fields the contract does not name, kept as sent.
    pub extra: Map<String, Value>,
}

/// One event of the contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub source: String,
    pub event_type: EventType,
    pub time: DateTime<FixedOffset>,
    pub subject: Option<String>,
    pub correlation: Option<Correlation>,
    pub traceparent: Option<TraceParent>,
    pub data_content_type: Option<String>,
    /// Extension attributes the contract does not name, kept as sent.
    pub extensions: Map<String, Value>,
    pub data: EventData,
}

impl Event {
    /// The exception type, when this event reports an exception.
    pub fn exception_kind(&self) -> Option<ExceptionKind> {
        match self.event_type {
            EventType::Exception(kind) => Some(kind),
            EventType::Milestone(_) => None,
        }
    }

    /// Every business key of the event: `refs`, completed by the keys its
    /// type-specific fields name.
    pub fn business_refs(&self) -> BusinessRefs {
        let mut refs = self.data.refs.clone();
        for (kind, value) in self.data.body.keys() {
            if refs.get(kind).is_none() {
                refs.insert(kind, value);
            }
        }
        refs
    }
}

/// The attributes of the envelope this contract reads.
pub(crate) const ATTRIBUTES: [&str; 10] = [
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "correlationid",
    "traceparent",
    "datacontenttype",
    "data",
];

/// The longest extension attribute name.
pub(crate) const MAX_ATTRIBUTE_NAME: usize = 64;

/// An event as the contract reads it: `data_base64` (which the CloudEvents
/// SDKs write for bytes) decoded into `data`. Done once at the edge, so the
/// event is stored, routed and replayed with its `data` as JSON.
pub fn with_json_data(value: &Value) -> Result<Cow<'_, Value>, InvalidEvent> {
    let Some(map) = value.as_object() else { return Ok(Cow::Borrowed(value)) };
    let Some(encoded) = map.get("data_base64") else { return Ok(Cow::Borrowed(value)) };
    let problem =
        |message: &str| InvalidEvent(vec![FieldProblem { pointer: "/data_base64".into(), message: message.into() }]);
    if map.get("data").is_some_and(|d| !d.is_null()) {
        return Err(problem("an event carries `data` or `data_base64`, not both"));
    }
    let Some(text) = encoded.as_str() else { return Err(problem("must be a base64 string")) };
    use base64::Engine;
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| problem("is not valid base64"))?;
    let data: Value =
        serde_json::from_slice(&bytes).map_err(|e| problem(&format!("does not decode to the contract's JSON: {e}")))?;
    let mut decoded = map.clone();
    decoded.remove("data_base64");
    decoded.insert("data".into(), data);
    Ok(Cow::Owned(Value::Object(decoded)))
}

/// Context attribute names: lower-case ASCII letters and digits (the
/// CloudEvents type system); their string values hold no control characters.
fn check_attributes(value: &Value, p: &mut Problems) {
    let Some(map) = value.as_object() else { return };
    for (name, v) in map {
        if name == "data" || name == "data_base64" {
            continue;
        }
        let pointer = format!("/{}", reader::escape(name));
        let well_named = !name.is_empty()
            && name.len() <= MAX_ATTRIBUTE_NAME
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !well_named {
            p.push(
                pointer.clone(),
                format!("attribute names are 1 to {MAX_ATTRIBUTE_NAME} lower-case letters and digits"),
            );
        }
        if let Value::String(s) = v
            && s.chars().any(char::is_control)
        {
            p.push(pointer, "must not contain control characters");
        }
    }
}

/// Whether a `datacontenttype` names JSON: the part before any `;`, spaces
/// and tabs around it ignored, is `application/json` or ends in `+json`, in
/// any case.
fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim_matches([' ', '\t']).to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// Parses one event, reporting every problem found.
pub fn parse(value: &Value) -> Result<Event, InvalidEvent> {
    read(value, Problems::default())
}

/// Parses an event stored earlier. Days and timestamps are read as leniently
/// as they were when it was accepted (a day `2026-12-9`, a timestamp with
/// more than nine digits of fraction), so that an event once accepted is
/// always read again; [`parse`] holds new events to the published shape.
pub fn parse_stored(value: &Value) -> Result<Event, InvalidEvent> {
    read(value, Problems::stored())
}

fn read(value: &Value, mut p: Problems) -> Result<Event, InvalidEvent> {
    check_attributes(value, &mut p);
    let event = read_event(value, &mut p);
    match event {
        Some(event) if p.0.is_empty() => Ok(event),
        _ => Err(InvalidEvent(p.0)),
    }
}

fn read_event(value: &Value, p: &mut Problems) -> Option<Event> {
    let mut o = Obj::new(value, "", p)?;
    match o.raw("specversion") {
        Some(Value::String(v)) if v == "1.0" => {}
        Some(_) => p.push("/specversion", "must be \"1.0\""),
        None => p.push("/specversion", "is required"),
    }
    let id = o.req_str("id", p);
    let source = o.req_str("source", p);
    let event_type = match o.raw("type") {
        None => {
            p.push("/type", "is required");
            None
        }
        Some(Value::String(t)) => match t.parse::<EventType>() {
            Ok(t) => Some(t),
            Err(_) => {
                p.push("/type", format!("`{t}` is not an event type of the contract"));
                None
            }
        },
        Some(_) => {
            p.push("/type", "must be a string");
            None
        }
    };
    let time = o.req_time("time", p);
    let subject = o.opt_str("subject", p);
    let given_correlation = o.opt_str("correlationid", p);
    let traceparent = o.opt_str("traceparent", p).and_then(|t| {
        let parsed = TraceParent::parse(&t);
        if parsed.is_none() {
            p.push("/traceparent", "must be a W3C traceparent, e.g. 00-<32 hex>-<16 hex>-01");
        }
        parsed
    });
    let data_content_type = o.opt_str("datacontenttype", p);
    if let Some(ct) = &data_content_type
        && !is_json_media_type(ct)
    {
        p.push("/datacontenttype", "must be application/json or another JSON media type (`+json`)");
    }
    o.skip(&ATTRIBUTES);
    let extensions = o.extras();

    let data = match o.raw("data") {
        None => {
            p.push("/data", "is required");
            None
        }
        Some(data) => event_type.and_then(|t| read_data(t, data, p)),
    };

    let (id, source, event_type, time, data) = (id?, source?, event_type?, time?, data?);
    let mut event = Event {
        id,
        source,
        event_type,
        time,
        subject,
        correlation: None,
        traceparent,
        data_content_type,
        extensions,
        data,
    };
    event.correlation = match given_correlation {
        Some(id) => Some(Correlation { id: CorrelationId(id), derived: false }),
        None => CorrelationId::derive(&event.data.refs)
            .or_else(|| CorrelationId::derive(&event.business_refs()))
            .map(|id| Correlation { id, derived: true }),
    };
    Some(event)
}

fn read_data(event_type: EventType, value: &Value, p: &mut Problems) -> Option<EventData> {
    let mut o = Obj::new(value, "/data", p)?;
    let site = o.opt_str("site", p);
    let (refs, other_refs) = read_refs(&mut o, p);
    let (severity, summary) = match event_type {
        EventType::Exception(_) => (o.opt_enum("severity", p), o.opt_text("summary", p)),
        EventType::Milestone(_) => (None, None),
    };
    let body = parse_data::body(event_type, &mut o, p)?;
    Some(EventData { site, refs, other_refs, severity, summary, body, extra: o.extras() })
}

fn read_refs(o: &mut Obj<'_>, p: &mut Problems) -> (BusinessRefs, Map<String, Value>) {
    let mut refs = BusinessRefs::new();
    let mut other = Map::new();
    let Some(value) = o.raw("refs") else {
        return (refs, other);
    };
    let Some(map) = value.as_object() else {
        p.push(o.ptr("refs"), "must be an object of business keys");
        return (refs, other);
    };
    let base = o.ptr("refs");
    for (key, v) in map {
        let Ok(kind) = key.parse::<RefKind>() else {
            other.insert(key.clone(), v.clone());
            continue;
        };
        match v.as_str().filter(|s| reader::is_key(s)) {
            Some(s) => refs.insert(kind, s),
            None => p.push(format!("{base}/{}", reader::escape(key)), reader::not_a_key()),
        }
    }
    (refs, other)
}

#[cfg(test)]
mod tests;
