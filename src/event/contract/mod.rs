//! The contract as data: every event type's fields, their kinds and whether
//! they are required, and the JSON Schema (2020-12) that follows from them
//! ([`schema`]).
//!
//! The parser reads fields by hand; the tests below hold it to this table
//! (an event built from the table parses, with nothing left unread; without
//! a required field it is refused at that field), so the schema published in
//! the OpenAPI document says what the parser does.

use serde_json::{Value, json};

use super::data::{AckLineStatus, Channel, System};
use super::{EventType, MilestoneKind};
use crate::{ExceptionKind, Named};

mod schema;
pub use schema::{any_event_schema, data_schema, event_schema, json_event_schema};

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

    /// The parser asks for the fields of the type's table and no other, so
    /// that a field it reads cannot be missing from the table (and from the
    /// document and schemas written from it).
    #[test]
    fn the_parser_reads_the_fields_of_the_table_and_no_other() {
        use std::collections::BTreeSet;
        for t in all_event_types() {
            crate::event::reader::ASKED.with(|asked| asked.borrow_mut().clear());
            parse(&example(t, true)).unwrap_or_else(|e| panic!("{t}: {e:?}"));
            let asked = crate::event::reader::ASKED.with(|asked| asked.borrow().clone());
            let at =
                |path: &str| -> BTreeSet<&str> { asked.iter().filter(|(p, _)| p == path).map(|(_, k)| *k).collect() };
            let mut wanted: BTreeSet<&str> = ["site", "refs"].into();
            if let EventType::Exception(_) = t {
                wanted.extend(["severity", "summary"]);
            }
            wanted.extend(fields(t).iter().map(|f| f.name));
            assert_eq!(at("/data"), wanted, "{t}: the fields of `data`");
            for f in fields(t) {
                if let Kind::Lines(nested) = f.kind {
                    let names: BTreeSet<&str> = nested.iter().map(|n| n.name).collect();
                    assert_eq!(at(&format!("/data/{}/0", f.name)), names, "{t}: the fields of a line");
                }
            }
            let envelope: BTreeSet<&str> = crate::event::ATTRIBUTES.into_iter().collect();
            assert_eq!(at(""), envelope, "{t}: the attributes");
        }
    }

    #[test]
    fn every_type_has_a_schema_naming_its_required_fields() {
        let any = any_event_schema();
        assert_eq!(any["oneOf"].as_array().unwrap().len(), MilestoneKind::ALL.len() + ExceptionKind::ALL.len() - 1);
        let receipt = event_schema(EventType::Exception(ExceptionKind::PartialReceipt));
        assert_eq!(
            receipt["properties"]["data"]["anyOf"][0]["required"],
            json!(["po", "line", "item", "expected_qty", "received_qty"])
        );
    }
}
