//! The reference part of `docs/events.md`, written from the contract's own
//! tables ([`super::contract`]): every type a sender may send, its fields
//! (type, whether required, unit, an example, what it means), the business
//! keys and transaction an event of it yields, and one complete example.
//! A test holds the document to what this writes, so that a type or a field
//! cannot be in the code and not in the document, or the other way round.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::contract::{self, Field, Kind};
use super::reader::{MAX_AMOUNT, MAX_KEY, MAX_QUANTITY, MAX_TEXT, YEARS};
use super::{CorrelationId, EventType, MAX_ATTRIBUTE_NAME, MilestoneKind, TRANSACTION_KEYS, parse};
use crate::{ExceptionKind, Named, RefKind, Severity};

/// The line before the written part of the document.
pub const BEGIN: &str = "<!-- reference: written from src/event/reference.rs; `CROSSDOCK_WRITE_DOCS=1 cargo test -p crossdock reference` rewrites it -->";
/// The line after it.
pub const END: &str = "<!-- end of reference -->";

/// What a field of `data` means and a value it may hold.
struct Gloss {
    meaning: &'static str,
    example: Value,
}

/// The meaning and an example of every field name the contract uses; a
/// name means the same in every type that has it.
fn gloss(name: &str) -> Option<Gloss> {
    let g = |meaning: &'static str, example: Value| Some(Gloss { meaning, example });
    match name {
        "supplier" => g("the supplier's code", json!("SUP-017")),
        "lines" => g("the lines, one object each", Value::Null),
        "line" => g("the line number", json!(2)),
        "item" => g("the item (SKU)", json!("SKU-20418")),
        "qty" => g("the quantity", json!(240)),
        "uom" => g("the unit of measure of `qty`", json!("EA")),
        "requested_date" => g("the day the buyer asked for", json!("2026-12-09")),
        "status" => g("the supplier's answer for the line", json!("changed")),
        "promised_date" => g("the day the supplier now promises", json!("2026-12-14")),
        "asn" => g("the advance ship notice's number", json!("ASN-55120")),
        "eta" => g("the expected arrival", json!("2026-11-26T09:00:00Z")),
        "receipt" => g("the receipt's number", json!("RCV-90311")),
        "qty_received" => g("the quantity received", json!(192)),
        "lot" => g("the lot or batch", json!("LOT-2611A")),
        "bin" => g("the storage bin", json!("A-12-03")),
        "erp_qty" => g("on hand according to the ERP", json!(120)),
        "wms_qty" => g("on hand according to the WMS", json!(96)),
        "order" => g("the sales order", json!("SO-77812")),
        "customer" => g("the customer's code", json!("CUST-4410")),
        "channel" => g("where the order came from", json!("edi")),
        "qty_allocated" => g("the quantity allocated", json!(24)),
        "qty_picked" => g("the quantity picked", json!(24)),
        "shipment" => g("the shipment", json!("SHP-4471")),
        "carrier" => g("the carrier's code", json!("ODFL")),
        "tracking" => g("the carrier's tracking number", json!("1Z999AA10123456784")),
        "orders" => g("the sales orders on the shipment", json!(["SO-77812", "SO-77813"])),
        "location" => g("where the shipment was seen", json!("Memphis, TN")),
        "delivered_at" => g("when it was delivered", json!("2026-11-27T14:05:00Z")),
        "signed_by" => g("who signed for it", json!("R. Alvarez")),
        "invoice" => g("the invoice's number", json!("INV-300512")),
        "amount" => g("the invoice's total, negative for a credit", json!(4812.5)),
        "currency" => g("the currency of `amount` (ISO 4217)", json!("USD")),
        "system" => g("the system that failed", json!("carrier")),
        "operation" => g("what was being done", json!("tms.create_shipment")),
        "error_code" => g("the error's code", json!("timeout")),
        "message" => g("the error's message, for people", json!("carrier rating API did not answer within 30 s")),
        "http_status" => g("the HTTP status of the failed call", json!(504)),
        "retryable" => g("whether sending the payload again may succeed", json!(true)),
        "attempts" => g("the attempts made so far", json!(3)),
        "payload" => g(
            "the original message, kept for replay",
            json!({"shipment": "SHP-4471", "carrier": "ODFL", "service": "LTL", "pallets": 4}),
        ),
        "payload_content_type" => g(
            "the media type a string `payload` (XML, EDI, CSV) is sent again with on a replay",
            json!("application/json"),
        ),
        "po" => g("the purchase order", json!("PO-10045")),
        "expected_qty" => g("the quantity expected", json!(240)),
        "received_qty" => g("the quantity received", json!(192)),
        "previous_date" => g("the day promised before", json!("2026-12-09")),
        "original_id" => g("the `id` of the event first received", json!("wms-dc-atl-000981")),
        "duplicate_id" => g("the `id` of the event received again", json!("wms-dc-atl-000987")),
        "entity" => g("what the two events are about", json!("shipment")),
        "requested_qty" => g("the quantity ordered", json!(24)),
        "available_qty" => g("the quantity available to allocate", json!(6)),
        _ => None,
    }
}

/// What an event of a type reports, in a sentence.
fn about(event_type: EventType) -> &'static str {
    match event_type {
        EventType::Milestone(m) => match m {
            MilestoneKind::PoCreated => "A purchase order was created (ERP).",
            MilestoneKind::PoAcknowledged => {
                "The supplier acknowledged a purchase order (EDI 855 or the supplier portal)."
            }
            MilestoneKind::AsnReceived => "An advance ship notice arrived (EDI 856).",
            MilestoneKind::ReceiptPosted => "Goods were received against a purchase order (WMS).",
            MilestoneKind::PutawayCompleted => "Received goods were put away into a bin (WMS).",
            MilestoneKind::InventorySnapshot => "The ERP's and the WMS's stock of an item at one moment.",
            MilestoneKind::OrderReleased => "A sales order was released to the warehouse.",
            MilestoneKind::OrderAllocated => "Stock was allocated to a sales order.",
            MilestoneKind::PickCompleted => "A sales order was picked.",
            MilestoneKind::ShipmentDispatched => "A shipment left with its carrier (TMS).",
            MilestoneKind::ShipmentInTransit => "A carrier reported a shipment on its way.",
            MilestoneKind::DeliveryConfirmed => "A carrier confirmed delivery (proof of delivery).",
            MilestoneKind::InvoicePosted => "An invoice was posted (ERP).",
        },
        EventType::Exception(e) => match e {
            ExceptionKind::Integration => {
                "A message between two systems failed. Its payload is kept and can be replayed; a carrier API \
                 timeout is `system: carrier`, `error_code: timeout`."
            }
            ExceptionKind::PartialReceipt => "Fewer goods were received than the purchase order line expected.",
            ExceptionKind::SupplierDateChange => "A supplier moved the day it promised.",
            ExceptionKind::InventoryMismatch => "The ERP and the WMS disagree on the stock of an item.",
            ExceptionKind::DuplicateEvent => "A system received the same business event twice.",
            ExceptionKind::AllocationFailed => "A sales order could not be allocated in full.",
            ExceptionKind::InvoiceTriggerFailed => "An invoice that a shipment should have triggered was not raised.",
            ExceptionKind::MilestoneOverdue => {
                "Raised by Crossdock itself: a transaction's next milestone did not come."
            }
        },
    }
}

/// The JSON Schema (2020-12) of one whole event of a type, as the product
/// publishes it: the contract's schema with what the type reports and the
/// example of the reference.
pub fn published_schema(event_type: EventType) -> Value {
    let mut schema = contract::event_schema(event_type);
    if let Value::Object(fields) = &mut schema {
        fields.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
        fields.insert("description".into(), json!(about(event_type)));
        fields.insert("examples".into(), json!([example(event_type)]));
    }
    schema
}

/// A field's type as the document names it.
fn type_name(kind: Kind) -> String {
    match kind {
        Kind::Key => format!("key (string, 1–{MAX_KEY})"),
        Kind::Text => format!("text (string, 1–{MAX_TEXT})"),
        Kind::Quantity => format!("number, 0 to {MAX_QUANTITY:e}"),
        Kind::Amount => format!("number, ±{MAX_AMOUNT:e}"),
        Kind::Line => "integer, 1 or more".into(),
        Kind::Count { min, max } => format!("integer, {min} to {max}"),
        Kind::Bool => "boolean".into(),
        Kind::Date => "day or timestamp".into(),
        Kind::Time => "timestamp".into(),
        Kind::OneOf(names) => {
            format!("one of {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))
        }
        Kind::Currency => "ISO 4217 code".into(),
        Kind::Keys => "list of keys (1 or more)".into(),
        Kind::Lines(_) => "list of lines (1 or more)".into(),
        Kind::Any => "any JSON but `null`".into(),
    }
}

/// A field's unit, where it has one.
fn unit(name: &str, kind: Kind) -> &'static str {
    match kind {
        Kind::Quantity if name == "qty" => "`uom`",
        Kind::Quantity => "the item's unit",
        Kind::Amount => "`currency`",
        Kind::Date => "`2026-12-09`, or RFC 3339",
        Kind::Time => "RFC 3339, with offset",
        _ => "",
    }
}

/// The example value of a field (of a line, for a list of lines).
fn example_value(field: &Field) -> Value {
    match field.kind {
        Kind::Lines(fields) => json!([fill(fields)]),
        _ => gloss(field.name).map(|g| g.example).unwrap_or(Value::Null),
    }
}

/// Every field filled with its example.
fn fill(fields: &[Field]) -> Value {
    Value::Object(fields.iter().map(|f| (f.name.to_owned(), example_value(f))).collect())
}

/// The business key that names an example's transaction, where its own
/// fields name none.
fn transaction_key(event_type: EventType) -> Option<(&'static str, &'static str)> {
    let po = Some(("po", "PO-10045"));
    let order = Some(("order", "SO-77812"));
    match event_type {
        EventType::Milestone(m) => match m {
            MilestoneKind::PoCreated
            | MilestoneKind::PoAcknowledged
            | MilestoneKind::AsnReceived
            | MilestoneKind::ReceiptPosted
            | MilestoneKind::PutawayCompleted => po,
            MilestoneKind::InventorySnapshot => None,
            MilestoneKind::OrderReleased
            | MilestoneKind::OrderAllocated
            | MilestoneKind::PickCompleted
            | MilestoneKind::ShipmentDispatched
            | MilestoneKind::ShipmentInTransit
            | MilestoneKind::DeliveryConfirmed
            | MilestoneKind::InvoicePosted => order,
        },
        EventType::Exception(e) => match e {
            ExceptionKind::PartialReceipt | ExceptionKind::SupplierDateChange => po,
            ExceptionKind::InventoryMismatch => None,
            ExceptionKind::Integration
            | ExceptionKind::DuplicateEvent
            | ExceptionKind::AllocationFailed
            | ExceptionKind::InvoiceTriggerFailed
            | ExceptionKind::MilestoneOverdue => order,
        },
    }
}

/// A complete event of a type, as a sender would send it: every field
/// filled with its example, the business keys in `refs` (and the one that
/// names its transaction), and for an exception its severity and a summary.
pub fn example(event_type: EventType) -> Value {
    let mut refs = Map::new();
    if let Some((kind, value)) = transaction_key(event_type) {
        refs.insert(kind.into(), json!(value));
    }
    for f in contract::fields(event_type) {
        if f.name.parse::<RefKind>().is_ok() {
            refs.insert(f.name.to_owned(), example_value(f));
        }
    }
    let mut data = Map::new();
    data.insert("site".into(), json!("DC-ATL"));
    data.insert("refs".into(), Value::Object(refs));
    if let EventType::Exception(kind) = event_type {
        data.insert("severity".into(), json!(Severity::High.as_str()));
        data.insert("summary".into(), json!(format!("{} at DC-ATL", kind.label())));
    }
    if let Value::Object(fields) = fill(contract::fields(event_type)) {
        data.extend(fields);
    }
    let name = event_type.as_str().replace(['.', '_'], "-");
    json!({
        "specversion": "1.0",
        "id": format!("{name}-0001"),
        "source": "wms/dc-atl",
        "type": event_type.as_str(),
        "time": "2026-11-24T15:42:10Z",
        "data": data,
    })
}

/// An example as JSON for people: the attributes in the contract's order,
/// then `data` with the common fields first and the type's fields in the
/// order of its table.
fn pretty(event_type: EventType, event: &Value) -> String {
    fn member(name: &str, value: &Value, indent: &str) -> String {
        let text = serde_json::to_string_pretty(value).unwrap_or_default().replace('\n', &format!("\n{indent}"));
        format!("{indent}\"{name}\": {text}")
    }
    let common = ["site", "refs", "severity", "summary"];
    let data = &event["data"];
    let mut inner: Vec<String> = Vec::new();
    let names = common.iter().copied().chain(contract::fields(event_type).iter().map(|f| f.name));
    for name in names {
        if let Some(value) = data.get(name) {
            inner.push(member(name, value, "    "));
        }
    }
    let mut outer: Vec<String> =
        ["specversion", "id", "source", "type", "time"].iter().map(|name| member(name, &event[*name], "  ")).collect();
    outer.push(format!("  \"data\": {{\n{}\n  }}", inner.join(",\n")));
    format!("{{\n{}\n}}", outer.join(",\n"))
}

/// The example of a type as a sender under `source` would write it, as
/// indented JSON (a test event's starting point).
pub fn example_text(event_type: EventType, source: &str) -> String {
    let mut event = example(event_type);
    event["source"] = json!(source);
    pretty(event_type, &event)
}

/// The rows of a field table: nested fields of a list of lines as
/// `lines[].line`.
fn rows(out: &mut String, prefix: &str, fields: &[Field]) {
    for f in fields {
        let name = format!("{prefix}{}", f.name);
        let meaning = gloss(f.name).map(|g| g.meaning).unwrap_or("");
        let shown = match f.kind {
            Kind::Lines(_) => String::new(),
            _ => format!("`{}`", example_value(f)),
        };
        let required = if f.required { "required" } else { "optional" };
        let _ = writeln!(
            out,
            "| `{name}` | {} | {required} | {} | {shown} | {meaning} |",
            type_name(f.kind),
            unit(f.name, f.kind)
        );
        if let Kind::Lines(nested) = f.kind {
            rows(out, &format!("{name}[]."), nested);
        }
    }
}

/// One type's section.
fn section(out: &mut String, event_type: EventType) {
    let _ = writeln!(out, "### `{event_type}`\n\n{}\n", about(event_type));
    out.push_str("| field | type | required | unit | example | meaning |\n|---|---|---|---|---|---|\n");
    rows(out, "", contract::fields(event_type));
    let event = example(event_type);
    let parsed = parse(&event).ok();
    let keys = parsed
        .as_ref()
        .map(|e| e.business_refs().iter().map(|(k, v)| format!("`{k}` {v}")).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let transaction = parsed
        .as_ref()
        .and_then(|e| CorrelationId::derive(&e.business_refs()))
        .map(|c| format!("`{c}`"))
        .unwrap_or_else(|| "none".into());
    let _ = writeln!(out, "\nBusiness keys of the example: {keys}. Its transaction: {transaction}.\n");
    let _ = writeln!(out, "```json\n{}\n```\n", pretty(event_type, &event));
}

/// The written part of `docs/events.md`.
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str("## Fields every type may carry\n\n");
    out.push_str("| field | type | required | meaning |\n|---|---|---|---|\n");
    let _ = writeln!(out, "| `site` | key (string, 1–{MAX_KEY}) | optional | the warehouse or DC, e.g. `DC-ATL` |");
    let _ = writeln!(
        out,
        "| `refs` | object of keys | optional | the business keys the event touches, by kind: {} |",
        RefKind::ALL.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(
        out,
        "| `severity` | one of {} | optional, exceptions only | routing rules and the type's default decide when it is missing |",
        Severity::NAMES.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(
        out,
        "| `summary` | text (string, 1–{MAX_TEXT}) | optional, exceptions only | one line for people; written from the fields when missing |"
    );
    let _ = writeln!(
        out,
        "\nAn optional field may be `null`, which reads as absent. Fields the contract does not name are kept as \
         sent. A key of a field that names a business key (`po`, `order`, `shipment`, `item`, …) is added to \
         `refs` when `refs` does not hold that kind.\n\n\
         The transaction of an event is its `correlationid`; without one it is the first of these keys present: {}.\n",
        TRANSACTION_KEYS.iter().map(|k| format!("`{k}` (`{k}:<value>`)")).collect::<Vec<_>>().join(", ")
    );
    out.push_str("## Limits\n\n| what | limit |\n|---|---|\n");
    let _ = writeln!(
        out,
        "| `id`, `source`, `subject`, `correlationid`, a key | 1 to {MAX_KEY} characters, no control characters |"
    );
    let _ = writeln!(out, "| text (`message`, `summary`) | 1 to {MAX_TEXT} characters |");
    let _ = writeln!(out, "| a quantity | 0 to {MAX_QUANTITY:e} |");
    let _ = writeln!(out, "| an amount | −{MAX_AMOUNT:e} to {MAX_AMOUNT:e} |");
    let _ = writeln!(out, "| a day or a timestamp | years {} to {} |", YEARS.start(), YEARS.end());
    let _ = writeln!(
        out,
        "| an extension attribute's name | 1 to {MAX_ATTRIBUTE_NAME} lower-case ASCII letters and digits |"
    );
    out.push_str(
        "\nA request's own limits (the body's size, the events of a batch, the source's burst) are in \
         [Limits of a request](#limits-of-a-request) above.\n",
    );
    out.push_str("\n## Milestones\n\n");
    for t in contract::event_types().filter(|t| matches!(t, EventType::Milestone(_))) {
        section(&mut out, t);
    }
    out.push_str("## Exceptions\n\n");
    for t in contract::event_types().filter(|t| matches!(t, EventType::Exception(_))) {
        section(&mut out, t);
    }
    let overdue = EventType::Exception(ExceptionKind::MilestoneOverdue);
    let _ = writeln!(
        out,
        "### `{overdue}`\n\n{} Senders may not send it; its fields are {}.",
        about(overdue),
        contract::fields(overdue).iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_the_contract_has_a_meaning_and_an_example() {
        fn check(fields: &[Field], t: EventType) {
            for f in fields {
                let g = gloss(f.name).unwrap_or_else(|| panic!("{t}: `{}` has no gloss", f.name));
                if let Kind::Lines(nested) = f.kind {
                    check(nested, t);
                } else {
                    assert!(!g.example.is_null(), "{t}: `{}` has no example", f.name);
                }
            }
        }
        for t in contract::event_types() {
            check(contract::fields(t), t);
        }
    }

    #[test]
    fn every_example_parses_with_nothing_left_unread() {
        for t in contract::event_types() {
            let event = example(t);
            let parsed = parse(&event).unwrap_or_else(|e| panic!("{t}: {e:?}"));
            assert!(parsed.data.extra.is_empty(), "{t}: {:?} not read", parsed.data.extra);
            assert!(parsed.data.other_refs.is_empty(), "{t}: {:?} not a kind of key", parsed.data.other_refs);
            let shown: Value = serde_json::from_str(&pretty(t, &event)).expect("the shown example is JSON");
            assert_eq!(shown, event, "{t}: the example shown is the example");
        }
    }

    /// The document's table of the envelope names the attributes the
    /// parser reads, each once.
    #[test]
    fn the_envelope_in_docs_events_md_names_the_attributes_the_parser_reads() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/events.md"))
            .expect("docs/events.md is readable");
        let section = doc.split("## The envelope").nth(1).and_then(|s| s.split("\n## ").next()).unwrap_or_default();
        let named: Vec<&str> =
            section.lines().filter_map(|l| l.strip_prefix("| `")?.split_once('`').map(|(name, _)| name)).collect();
        let read: Vec<&str> = super::super::ATTRIBUTES.into_iter().filter(|a| *a != "data").collect();
        assert_eq!(named, read, "the envelope's table in docs/events.md");
    }

    /// The document holds what the code says, between its two markers.
    #[test]
    fn the_reference_in_docs_events_md_is_the_one_the_code_writes() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/events.md");
        let doc = std::fs::read_to_string(path).expect("docs/events.md is readable");
        let (head, rest) = doc.split_once(BEGIN).expect("docs/events.md has the line that begins the reference");
        let (written, tail) = rest.split_once(END).expect("docs/events.md has the line that ends the reference");
        let wanted = format!("\n{}", markdown());
        if written != wanted {
            if std::env::var_os("CROSSDOCK_WRITE_DOCS").is_some() {
                std::fs::write(path, format!("{head}{BEGIN}{wanted}{END}{tail}")).expect("docs/events.md written");
                return;
            }
            let line = written
                .lines()
                .zip(wanted.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| written.lines().count().min(wanted.lines().count()));
            panic!(
                "docs/events.md differs from the contract at line {} of its reference: {:?} in the document, {:?} in the \
                 code; run CROSSDOCK_WRITE_DOCS=1 cargo test -p crossdock reference",
                line + 1,
                written.lines().nth(line),
                wanted.lines().nth(line)
            );
        }
    }
}
