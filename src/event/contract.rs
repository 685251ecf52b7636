//! The contract as data: every event type's fields, their kinds and whether
//! they are required, and the JSON Schema (2020-12) that follows from them.
//!
//! The parser reads fields by hand; the tests below hold it to this table
//! (an event built from the table parses, with nothing left unread; without
//! a required field it is refused at that field), so the schema published in
//! the OpenAPI document says what the parser does.

use serde_json::{Map, Value, json};

use super::data::{AckLineStatus, Channel, System};
use super::reader::{MAX_AMOUNT, MAX_KEY, MAX_QUANTITY, MAX_TEXT, YEARS};
use super::{EventType, MilestoneKind};
use crate::{ExceptionKind, Named, RefKind, Severity};

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A key-like string: not blank, at most 256 characters.
    Key,
    /// Free text: not blank, at most 4096 characters.
    Text,
    /// A quantity: 0 to 10^12.
    Quantity,
    /// Money, either way: up to 10^15.
    Amount,
    /// A line number: 1 or more.
    Line,
    /// A whole number within bounds.
    Count {
        min: u64,
        max: u64,
    },
    Bool,
    /// A day (`2026-12-09`) or an RFC 3339 timestamp.
    Date,
    /// An RFC 3339 timestamp.
    Time,
    /// One of these names.
    OneOf(&'static [&'static str]),
    /// An ISO 4217 code, e.g. `USD`.
    Currency,
    /// A non-empty list of keys.
    Keys,
    /// A non-empty list of lines, each with these fields.
    Lines(&'static [Field]),
    /// Any JSON value (the original message of a failure).
    Any,
}

/// One field of `data` (or of a line).
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn req(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: true }
}

const fn opt(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: false }
}

/// A static table of fields.
macro_rules! table {
    ($($field:expr),* $(,)?) => {{
        const TABLE: &[Field] = &[$($field),*];
        TABLE
    }};
}

const LINE_NUMBERS: Kind = Kind::Count { min: 1, max: u32::MAX as u64 };

/// The fields of `data` an event type defines (besides `site` and `refs`,
/// and, for exceptions, `severity` and `summary`).
pub fn fields(event_type: EventType) -> &'static [Field] {
    use Kind::*;
    match event_type {
        EventType::Milestone(m) => match m {
            MilestoneKind::PoCreated => table![
                req("supplier", Key),
                req(
                    "lines",
                    Lines(&[
                        req("line", Line),
                        req("item", Key),
                        req("qty", Quantity),
                        req("uom", Key),
                        req("requested_date", Date),
                    ]),
                ),
            ],
            MilestoneKind::PoAcknowledged => table![
                req("supplier", Key),
                req(
                    "lines",
                    Lines(&[
                        req("line", Line),
                        req("status", OneOf(AckLineStatus::NAMES)),
                        req("qty", Quantity),
                        req("promised_date", Date),
                    ]),
                ),
            ],
            MilestoneKind::AsnReceived => table![
                req("asn", Key),
                req("eta", Time),
                req("lines", Lines(&[req("line", Line), req("item", Key), req("qty", Quantity)])),
            ],
            MilestoneKind::ReceiptPosted => table![
                req("receipt", Key),
                req(
                    "lines",
                    Lines(&[req("line", Line), req("item", Key), req("qty_received", Quantity), opt("lot", Key)]),
                ),
            ],
            MilestoneKind::PutawayCompleted => {
                table![req("receipt", Key), req("item", Key), req("qty", Quantity), req("bin", Key)]
            }
            MilestoneKind::InventorySnapshot => {
                table![req("item", Key), req("erp_qty", Quantity), req("wms_qty", Quantity)]
            }
            MilestoneKind::OrderReleased => table![
                req("order", Key),
                req("customer", Key),
                req("channel", OneOf(Channel::NAMES)),
                req("lines", Lines(&[req("line", Line), req("item", Key), req("qty", Quantity)])),
            ],
            MilestoneKind::OrderAllocated => table![
                req("order", Key),
                req("lines", Lines(&[req("line", Line), req("item", Key), req("qty_allocated", Quantity)])),
            ],
            MilestoneKind::PickCompleted => table![
                req("order", Key),
                req("lines", Lines(&[req("line", Line), req("item", Key), req("qty_picked", Quantity)])),
            ],
            MilestoneKind::ShipmentDispatched => {
                table![req("shipment", Key), req("carrier", Key), req("tracking", Key), req("orders", Keys)]
            }
            MilestoneKind::ShipmentInTransit => table![req("shipment", Key), opt("location", Key), opt("eta", Time)],
            MilestoneKind::DeliveryConfirmed => {
                table![req("shipment", Key), req("delivered_at", Time), opt("signed_by", Key)]
            }
            MilestoneKind::InvoicePosted => table![
                req("invoice", Key),
                opt("order", Key),
                opt("shipment", Key),
                req("amount", Amount),
                req("currency", Currency),
            ],
        },
        EventType::Exception(e) => match e {
            ExceptionKind::Integration => table![
                req("system", OneOf(System::NAMES)),
                req("operation", Key),
                req("error_code", Key),
                req("message", Text),
                opt("http_status", Count { min: 100, max: 599 }),
                req("retryable", Bool),
                opt("attempts", Count { min: 0, max: 1_000_000 }),
                req("payload", Any),
                opt("payload_content_type", Key),
            ],
            ExceptionKind::PartialReceipt => table![
                req("po", Key),
                req("line", Line),
                req("item", Key),
                req("expected_qty", Quantity),
                req("received_qty", Quantity),
            ],
            ExceptionKind::SupplierDateChange => table![
                req("po", Key),
                opt("line", LINE_NUMBERS),
                req("supplier", Key),
                req("previous_date", Date),
                req("promised_date", Date),
            ],
            ExceptionKind::InventoryMismatch => table![
                req("item", Key),
                req("erp_qty", Quantity),
                req("wms_qty", Quantity),
                opt("bin", Key),
                opt("lot", Key),
            ],
            ExceptionKind::DuplicateEvent => {
                table![req("original_id", Key), req("duplicate_id", Key), req("entity", Key)]
            }
            ExceptionKind::AllocationFailed => table![
                req("order", Key),
                req("item", Key),
                req("requested_qty", Quantity),
                req("available_qty", Quantity),
            ],
            ExceptionKind::MilestoneOverdue => table![
                req("transaction", Text),
                req("after", OneOf(MilestoneKind::NAMES)),
                req("expected", OneOf(MilestoneKind::NAMES)),
                req("due_at", Time),
            ],
            ExceptionKind::InvoiceTriggerFailed => table![
                opt("invoice", Key),
                opt("shipment", Key),
                opt("order", Key),
                req("error_code", Key),
                req("message", Text),
            ],
        },
    }
}

/// Every event type a sender may send.
pub fn event_types() -> impl Iterator<Item = EventType> {
    MilestoneKind::ALL
        .iter()
        .map(|m| EventType::Milestone(*m))
        .chain(ExceptionKind::ALL.iter().filter(|e| e.from_senders()).map(|e| EventType::Exception(*e)))
}

/// Every event type, those Crossdock raises itself too.
pub fn all_event_types() -> impl Iterator<Item = EventType> {
    MilestoneKind::ALL
        .iter()
        .map(|m| EventType::Milestone(*m))
        .chain(ExceptionKind::ALL.iter().map(|e| EventType::Exception(*e)))
}

/// The Unicode white space that `str::trim` removes.
const SPACE: &str = r"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (Unicode category Cc).
const CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";

/// Control characters but tab, line feed and carriage return.
const CONTROL_IN_TEXT: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";

/// A context attribute or a key: not blank, no control characters.
fn attribute_pattern() -> String {
    format!("^[^{CONTROL}]*[^{SPACE}{CONTROL}][^{CONTROL}]*$")
}

/// Free text: not blank, no control characters but tabs and line breaks.
fn text_pattern() -> String {
    format!("^[^{CONTROL_IN_TEXT}]*[^{SPACE}{CONTROL}][^{CONTROL_IN_TEXT}]*$")
}

/// A year of [`YEARS`], as a regular expression.
fn year_pattern() -> &'static str {
    debug_assert_eq!((*YEARS.start(), *YEARS.end()), (1970, 2199));
    "(19[7-9][0-9]|2[01][0-9]{2})"
}

/// A calendar day (the 29th of February left out: a regular expression
/// cannot tell leap years).
fn day_pattern() -> String {
    format!(
        "{}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))",
        year_pattern()
    )
}

fn time_pattern() -> String {
    format!(
        "^{}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{{1,9}})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
        day_pattern()
    )
}

fn string(max: usize, pattern: String) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": pattern})
}

fn kind_schema(kind: Kind) -> Value {
    match kind {
        Kind::Key => string(MAX_KEY, attribute_pattern()),
        Kind::Text => string(MAX_TEXT, text_pattern()),
        Kind::Quantity => json!({"type": "number", "minimum": 0, "maximum": MAX_QUANTITY}),
        Kind::Amount => json!({"type": "number", "minimum": -MAX_AMOUNT, "maximum": MAX_AMOUNT}),
        Kind::Line => json!({"type": "integer", "minimum": 1, "maximum": u32::MAX}),
        Kind::Count { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Date => json!({"type": "string", "anyOf": [
            {"pattern": format!("^{}$", day_pattern())},
            {"pattern": time_pattern()},
        ]}),
        Kind::Time => json!({"type": "string", "pattern": time_pattern()}),
        Kind::OneOf(names) => json!({"type": "string", "enum": names}),
        Kind::Currency => json!({"type": "string", "pattern": "^[A-Z]{3}$"}),
        Kind::Keys => json!({"type": "array", "minItems": 1, "items": kind_schema(Kind::Key)}),
        Kind::Lines(fields) => json!({"type": "array", "minItems": 1, "items": object(fields)}),
        Kind::Any => json!({"not": {"type": "null"}}),
    }
}

/// An object with these fields; others are allowed (and kept). An optional
/// field may be `null`, which reads as absent.
fn object(fields: &[Field]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in fields {
        let schema = kind_schema(f.kind);
        if f.required {
            required.push(f.name);
            properties.insert(f.name.into(), schema);
        } else {
            properties.insert(f.name.into(), json!({"anyOf": [schema, {"type": "null"}]}));
        }
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// The schema of `data` for an event type.
pub fn data_schema(event_type: EventType) -> Value {
    let optional_key = json!({"anyOf": [kind_schema(Kind::Key), {"type": "null"}]});
    let refs: Map<String, Value> =
        RefKind::ALL.iter().map(|k| (k.as_str().to_owned(), kind_schema(Kind::Key))).collect();
    let mut schema = object(fields(event_type));
    let properties = schema["properties"].as_object_mut().map(std::mem::take).unwrap_or_default();
    let mut all = Map::new();
    all.insert("site".into(), optional_key);
    all.insert("refs".into(), json!({"anyOf": [{"type": "object", "properties": refs}, {"type": "null"}]}));
    if let EventType::Exception(_) = event_type {
        all.insert(
            "severity".into(),
            json!({"anyOf": [{"type": "string", "enum": Severity::NAMES}, {"type": "null"}]}),
        );
        all.insert("summary".into(), json!({"anyOf": [kind_schema(Kind::Text), {"type": "null"}]}));
    }
    all.extend(properties);
    schema["properties"] = Value::Object(all);
    schema
}

/// The schema of a whole event of one type.
pub fn event_schema(event_type: EventType) -> Value {
    let attribute =
        |max: usize| json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": attribute_pattern()});
    let optional = |schema: Value| json!({"anyOf": [schema, {"type": "null"}]});
    json!({
        "title": event_type.as_str(),
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": attribute(MAX_KEY),
            "source": attribute(MAX_KEY),
            "type": {"const": event_type.as_str()},
            "time": {"type": "string", "pattern": time_pattern()},
            "subject": optional(attribute(MAX_KEY)),
            "correlationid": optional(attribute(MAX_KEY)),
            "traceparent": optional(json!({"type": "string",
                "pattern": "^(0[0-9a-f]|[1-9a-e][0-9a-f]|f[0-9a-e])-[0-9a-f]{31}[1-9a-f]-[0-9a-f]{15}[1-9a-f]-[0-9a-f]{2}$"})),
            "datacontenttype": optional(json!({"type": "string", "pattern": "^application/([a-z0-9.+-]*\\+)?json(;[^\\u0000-\\u001f\\u007f-\\u009f]*)?$"})),
            "data": data_schema(event_type),
        },
        // Extension attributes: lower-case names; a string holds no control character.
        "propertyNames": {"pattern": "^([a-z0-9]{1,64}|data)$"},
        "additionalProperties": {"anyOf": [
            {"type": "string", "pattern": format!("^[^{CONTROL}]*$")},
            {"type": ["number", "boolean", "null"]},
        ]},
    })
}

/// The schema of any event: one of the types.
pub fn any_event_schema() -> Value {
    json!({"oneOf": event_types().map(event_schema).collect::<Vec<_>>()})
}

/// An event of this type with every field filled, as the table describes
/// it (tests and examples).
pub fn example(event_type: EventType, with_optional: bool) -> Value {
    fn value(kind: Kind, with_optional: bool) -> Value {
        match kind {
            Kind::Key => json!("K-1"),
            Kind::Text => json!("a message"),
            Kind::Quantity => json!(12),
            Kind::Amount => json!(125.5),
            Kind::Line => json!(1),
            Kind::Count { min, max } => json!(min.max(1).min(max)),
            Kind::Bool => json!(true),
            Kind::Date => json!("2026-12-09"),
            Kind::Time => json!("2026-11-24T15:42:10Z"),
            Kind::OneOf(names) => json!(names[0]),
            Kind::Currency => json!("USD"),
            Kind::Keys => json!(["K-1", "K-2"]),
            Kind::Lines(fields) => json!([fill(fields, with_optional)]),
            Kind::Any => json!({"original": true}),
        }
    }
    fn fill(fields: &[Field], with_optional: bool) -> Value {
        Value::Object(
            fields
                .iter()
                .filter(|f| f.required || with_optional)
                .map(|f| (f.name.to_owned(), value(f.kind, with_optional)))
                .collect(),
        )
    }
    let data = fill(fields(event_type), with_optional);
    json!({"specversion": "1.0", "id": "evt-1", "source": "wms/dc-atl", "type": event_type.as_str(),
           "time": "2026-11-24T15:42:10Z", "data": data})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse;

    #[test]
    fn an_event_built_from_the_table_parses_with_nothing_left_unread() {
        for t in all_event_types() {
            for with_optional in [false, true] {
                let event = example(t, with_optional);
                let parsed = parse(&event).unwrap_or_else(|e| panic!("{t}: {e:?}"));
                assert!(parsed.data.extra.is_empty(), "{t}: the parser does not read {:?}", parsed.data.extra);
            }
        }
    }

    #[test]
    fn without_a_required_field_the_event_is_refused_at_that_field() {
        for t in all_event_types() {
            for f in fields(t).iter().filter(|f| f.required) {
                let mut event = example(t, true);
                event["data"].as_object_mut().unwrap().remove(f.name);
                let problems = parse(&event).expect_err(&format!("{t} without {}", f.name)).0;
                let at = format!("/data/{}", f.name);
                assert!(problems.iter().any(|p| p.pointer == at), "{t}: {problems:?}");
            }
        }
    }

    #[test]
    fn every_type_has_a_schema_naming_its_required_fields() {
        let any = any_event_schema();
        assert_eq!(any["oneOf"].as_array().unwrap().len(), MilestoneKind::ALL.len() + ExceptionKind::ALL.len() - 1);
        let receipt = event_schema(EventType::Exception(ExceptionKind::PartialReceipt));
        assert_eq!(
            receipt["properties"]["data"]["required"],
            json!(["po", "line", "item", "expected_qty", "received_qty"])
        );
    }
}
