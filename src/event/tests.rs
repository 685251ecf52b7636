use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn envelope(event_type: &str, data: Value) -> Value {
    json!({
        "specversion": "1.0",
        "id": "evt-1",
        "source": "wms/dc-atl",
        "type": event_type,
        "time": "2026-11-24T15:42:10Z",
        "data": data,
    })
}

fn valid_receipt() -> Value {
    envelope(
        "exception.partial_receipt",
        json!({"po": "PO-1", "line": 1, "item": "SKU-1", "expected_qty": 10, "received_qty": 8}),
    )
}

/// A valid `data` for every type of the contract.
pub(crate) fn examples() -> Vec<(&'static str, Value)> {
    vec![
        (
            "po.created",
            json!({"site": "DC-ATL", "refs": {"po": "PO-1"}, "supplier": "SUP-017",
            "lines": [{"line": 1, "item": "SKU-1", "qty": 240, "uom": "EA", "requested_date": "2026-12-01"}]}),
        ),
        (
            "po.acknowledged",
            json!({"refs": {"po": "PO-1"}, "supplier": "SUP-017",
            "lines": [{"line": 1, "status": "changed", "qty": 200, "promised_date": "2026-12-09"}]}),
        ),
        (
            "asn.received",
            json!({"refs": {"po": "PO-1"}, "asn": "ASN-1", "eta": "2026-12-08T10:00:00-05:00",
            "lines": [{"line": 1, "item": "SKU-1", "qty": 200}]}),
        ),
        (
            "receipt.posted",
            json!({"refs": {"po": "PO-1"}, "receipt": "RCV-1",
            "lines": [{"line": 1, "item": "SKU-1", "qty_received": 192, "lot": "L-7"}]}),
        ),
        ("putaway.completed", json!({"receipt": "RCV-1", "item": "SKU-1", "qty": 192, "bin": "A-01-01"})),
        ("inventory.snapshot", json!({"item": "SKU-1", "erp_qty": 100, "wms_qty": 100})),
        (
            "order.released",
            json!({"order": "SO-1", "customer": "CUST-1", "channel": "edi",
            "lines": [{"line": 1, "item": "SKU-1", "qty": 4}]}),
        ),
        ("order.allocated", json!({"order": "SO-1", "lines": [{"line": 1, "item": "SKU-1", "qty_allocated": 4}]})),
        ("pick.completed", json!({"order": "SO-1", "lines": [{"line": 1, "item": "SKU-1", "qty_picked": 4}]})),
        (
            "shipment.dispatched",
            json!({"shipment": "SHP-1", "carrier": "ODFL", "tracking": "1Z999", "orders": ["SO-1"]}),
        ),
        ("shipment.in_transit", json!({"shipment": "SHP-1", "location": "Memphis, TN"})),
        (
            "delivery.confirmed",
            json!({"shipment": "SHP-1", "delivered_at": "2026-11-26T14:05:00-06:00", "signed_by": "J. Doe"}),
        ),
        ("invoice.posted", json!({"invoice": "INV-1", "order": "SO-1", "amount": 1234.5, "currency": "USD"})),
        (
            "exception.integration",
            json!({"site": "DC-DAL", "refs": {"order": "SO-77812", "shipment": "SHP-4471"},
            "system": "carrier", "operation": "tms.create_shipment", "error_code": "timeout",
            "message": "carrier rating API did not answer within 30 s", "retryable": true, "attempts": 3,
            "payload": {"shipment": "SHP-4471", "pallets": 4}}),
        ),
        (
            "exception.partial_receipt",
            json!({"site": "DC-ATL", "refs": {"po": "PO-10045"}, "po": "PO-10045", "line": 2,
            "item": "SKU-20418", "expected_qty": 240, "received_qty": 192, "summary": "48 EA short", "severity": "high"}),
        ),
        (
            "exception.supplier_date_change",
            json!({"po": "PO-1", "supplier": "SUP-1",
            "previous_date": "2026-12-01", "promised_date": "2026-12-09"}),
        ),
        ("exception.inventory_mismatch", json!({"item": "SKU-1", "erp_qty": 120, "wms_qty": 96, "bin": "A-12-03"})),
        ("exception.duplicate_event", json!({"original_id": "e-1", "duplicate_id": "e-2", "entity": "shipment"})),
        (
            "exception.allocation_failed",
            json!({"order": "SO-1", "item": "SKU-1", "requested_qty": 12, "available_qty": 4}),
        ),
        (
            "exception.invoice_trigger_failed",
            json!({"order": "SO-1", "error_code": "missing_tax_code",
            "message": "no tax code"}),
        ),
        (
            "exception.milestone_overdue",
            json!({"refs": {"po": "PO-1"}, "transaction": "po:PO-1", "after": "po.created",
            "expected": "po.acknowledged", "due_at": "2026-11-25T17:00:00Z"}),
        ),
    ]
}

fn pointers(err: &InvalidEvent) -> Vec<&str> {
    err.0.iter().map(|p| p.pointer.as_str()).collect()
}

#[test]
fn every_type_of_the_contract_parses() {
    let all = examples();
    assert_eq!(all.len(), MilestoneKind::ALL.len() + ExceptionKind::ALL.len());
    for (event_type, data) in all {
        let event = parse(&envelope(event_type, data)).unwrap_or_else(|e| panic!("{event_type}: {e:?}"));
        assert_eq!(event.event_type.as_str(), event_type);
    }
}

#[test]
fn the_contract_example_of_a_partial_receipt_parses_into_typed_values() {
    let value = json!({
      "specversion": "1.0",
      "id": "9b1f6c0e-2d4a-4c1e-9f57-3a0d8e5b7c21",
      "source": "wms/dc-atl",
      "type": "exception.partial_receipt",
      "time": "2026-11-24T15:42:10Z",
      "subject": "PO-10045",
      "data": {
        "site": "DC-ATL",
        "refs": {"po": "PO-10045", "asn": "ASN-55120", "receipt": "RCV-90311", "supplier": "SUP-017", "item": "SKU-20418"},
        "po": "PO-10045", "line": 2, "item": "SKU-20418",
        "expected_qty": 240, "received_qty": 192,
        "summary": "48 EA short on PO-10045 line 2"
      }
    });
    let event = parse(&value).unwrap();
    assert_eq!(event.exception_kind(), Some(ExceptionKind::PartialReceipt));
    assert_eq!(event.subject.as_deref(), Some("PO-10045"));
    assert_eq!(event.data.site.as_deref(), Some("DC-ATL"));
    assert_eq!(event.data.refs.get(RefKind::Asn), Some("ASN-55120"));
    assert_eq!(event.data.summary.as_deref(), Some("48 EA short on PO-10045 line 2"));
    assert_eq!(event.correlation, Some(Correlation { id: CorrelationId("po:PO-10045".into()), derived: true }));
    let Body::PartialReceipt { line, expected_qty, received_qty, .. } = event.data.body else { panic!("typed body") };
    assert_eq!((line, expected_qty, received_qty), (2, 240.0, 192.0));
}

#[test]
fn a_given_correlation_id_and_traceparent_are_kept() {
    let mut value = envelope("exception.integration", examples()[13].1.clone());
    value["correlationid"] = json!("order:SO-77812");
    value["traceparent"] = json!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    let event = parse(&value).unwrap();
    let correlation = event.correlation.unwrap();
    assert_eq!(correlation.id.as_str(), "order:SO-77812");
    assert!(!correlation.derived);
    assert_eq!(event.traceparent.unwrap().as_str(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

#[test]
fn the_correlation_id_is_derived_from_po_then_order_then_shipment() {
    let derive = |refs: Value| {
        let data = json!({"invoice": "INV-1", "amount": 1, "currency": "USD", "refs": refs});
        parse(&envelope("invoice.posted", data)).unwrap().correlation.map(|c| c.id.0)
    };
    assert_eq!(derive(json!({"shipment": "S", "order": "O", "po": "P"})).as_deref(), Some("po:P"));
    assert_eq!(derive(json!({"shipment": "S", "order": "O"})).as_deref(), Some("order:O"));
    assert_eq!(derive(json!({"shipment": "S"})).as_deref(), Some("shipment:S"));
    assert_eq!(derive(json!({"item": "I"})), None);
}

#[test]
fn without_refs_the_correlation_comes_from_the_typed_fields() {
    let data = json!({"order": "SO-9", "item": "SKU-1", "requested_qty": 2, "available_qty": 0});
    let event = parse(&envelope("exception.allocation_failed", data)).unwrap();
    assert_eq!(event.correlation.as_ref().unwrap().id.as_str(), "order:SO-9");
    assert_eq!(event.business_refs().get(RefKind::Item), Some("SKU-1"));
}

#[test]
fn every_problem_is_reported_with_its_pointer() {
    let value = json!({
        "specversion": "0.3",
        "source": "",
        "type": "exception.partial_receipt",
        "time": "yesterday",
        "data": {"po": "PO-1", "line": 0, "item": 7, "expected_qty": -1,
                 "refs": {"po": ""}, "severity": "urgent"}
    });
    let err = parse(&value).unwrap_err();
    let ptrs = pointers(&err);
    for expected in [
        "/specversion",
        "/id",
        "/source",
        "/time",
        "/data/line",
        "/data/item",
        "/data/expected_qty",
        "/data/received_qty",
        "/data/refs/po",
        "/data/severity",
    ] {
        assert!(ptrs.contains(&expected), "{expected} in {ptrs:?}");
    }
}

#[test]
fn problems_inside_lines_name_the_line() {
    let data = json!({"supplier": "S", "lines": [
        {"line": 1, "item": "A", "qty": 1, "uom": "EA", "requested_date": "2026-12-01"},
        {"line": 2, "item": "B", "qty": "ten", "uom": "EA", "requested_date": "12/01/2026"}
    ]});
    let err = parse(&envelope("po.created", data)).unwrap_err();
    assert_eq!(pointers(&err), vec!["/data/lines/1/qty", "/data/lines/1/requested_date"]);
}

#[test]
fn an_unknown_type_is_an_error() {
    let err = parse(&envelope("exception.alien_landing", json!({}))).unwrap_err();
    assert_eq!(pointers(&err), vec!["/type"]);
    assert!(err.0[0].message.contains("exception.alien_landing"));
}

#[test]
fn a_missing_data_or_non_object_event_is_an_error() {
    let mut value = envelope("po.created", json!({}));
    value.as_object_mut().unwrap().remove("data");
    assert_eq!(pointers(&parse(&value).unwrap_err()), vec!["/data"]);
    assert_eq!(pointers(&parse(&json!([1, 2])).unwrap_err()), vec![""]);
    assert_eq!(pointers(&parse(&envelope("po.created", json!("text"))).unwrap_err()), vec!["/data"]);
}

#[test]
fn unknown_fields_are_kept_not_dropped() {
    let mut value = envelope(
        "po.created",
        json!({"supplier": "S", "buyer": "B. Jones", "refs": {"po": "PO-1", "contract": "C-9"},
               "lines": [{"line": 1, "item": "A", "qty": 1, "uom": "EA", "requested_date": "2026-12-01", "color": "red"}]}),
    );
    value["partnerext"] = json!("x-1");
    let event = parse(&value).unwrap();
    assert_eq!(event.extensions["partnerext"], "x-1");
    assert_eq!(event.data.extra["buyer"], "B. Jones");
    assert_eq!(event.data.other_refs["contract"], "C-9");
    let Body::PoCreated { lines, .. } = &event.data.body else { panic!() };
    assert_eq!(lines[0].extra["color"], "red");
}

#[test]
fn a_malformed_traceparent_or_content_type_is_refused() {
    let mut value = envelope("inventory.snapshot", examples()[5].1.clone());
    value["traceparent"] = json!("00-00000000000000000000000000000000-00f067aa0ba902b7-01");
    value["datacontenttype"] = json!("text/xml");
    assert_eq!(pointers(&parse(&value).unwrap_err()), vec!["/traceparent", "/datacontenttype"]);
}

#[test]
fn the_integration_payload_is_required_and_kept_verbatim() {
    let mut data = examples()[13].1.clone();
    let event = parse(&envelope("exception.integration", data.clone())).unwrap();
    let Body::Integration(failure) = &event.data.body else { panic!() };
    assert_eq!(failure.payload, json!({"shipment": "SHP-4471", "pallets": 4}));
    assert_eq!(failure.system, System::Carrier);
    data.as_object_mut().unwrap().remove("payload");
    assert_eq!(pointers(&parse(&envelope("exception.integration", data)).unwrap_err()), vec!["/data/payload"]);
}

#[test]
fn a_parsed_event_serializes_for_the_console_and_back() {
    for (event_type, data) in examples() {
        let event = parse(&envelope(event_type, data)).unwrap();
        let json = serde_json::to_string(&event).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event, "{event_type}");
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        "[a-z0-9.:/ -]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("id".to_owned()),
                    Just("type".to_owned()),
                    Just("data".to_owned()),
                    Just("lines".to_owned()),
                    Just("qty".to_owned()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn parsing_any_json_never_panics_and_every_problem_has_a_pointer(value in arb_json()) {
        if let Err(err) = parse(&value) {
            prop_assert!(!err.0.is_empty());
            for problem in &err.0 {
                prop_assert!(problem.pointer.is_empty() || problem.pointer.starts_with('/'));
            }
        }
    }

    #[test]
    fn removing_any_required_field_is_reported_at_its_pointer(index in 0usize..20, pick in any::<prop::sample::Index>()) {
        let (event_type, data) = examples()[index].clone();
        let optional = ["site", "refs", "summary", "severity", "attempts", "lot", "location", "signed_by",
            "order", "shipment", "invoice", "line", "bin", "http_status", "payload_content_type"];
        let required: Vec<String> = data.as_object().unwrap().keys()
            .filter(|k| !optional.contains(&k.as_str()) || (event_type == "exception.partial_receipt" && *k == "line"))
            .cloned().collect();
        prop_assume!(!required.is_empty());
        let key = pick.get(&required).clone();
        let mut data = data;
        data.as_object_mut().unwrap().remove(&key);
        let err = parse(&envelope(event_type, data)).unwrap_err();
        let pointer = format!("/data/{key}");
        prop_assert!(err.0.iter().any(|p| p.pointer == pointer), "{} missing in {:?}", pointer, err.0);
    }
}

#[test]
fn quantities_amounts_and_dates_stay_within_what_a_business_could_mean() {
    let receipt = |expected: Value, time: &str| {
        json!({"specversion": "1.0", "id": "b-1", "source": "wms/x", "type": "exception.partial_receipt",
               "time": time, "data": {"po": "PO-1", "line": 1, "item": "SKU-1",
               "expected_qty": expected, "received_qty": 1}})
    };
    let pointers = |v: &Value| parse(v).unwrap_err().0.into_iter().map(|p| p.pointer).collect::<Vec<_>>();
    assert!(parse(&receipt(json!(1e12), "2026-11-24T15:42:10Z")).is_ok());
    assert_eq!(pointers(&receipt(json!(1e308), "2026-11-24T15:42:10Z")), ["/data/expected_qty"]);
    assert_eq!(pointers(&receipt(json!(5), "0000-01-01T00:00:00Z")), ["/time"]);
    assert_eq!(pointers(&receipt(json!(5), "9999-12-31T23:59:59Z")), ["/time"]);
    let moved = json!({"specversion": "1.0", "id": "d-1", "source": "portal/x", "type": "exception.supplier_date_change",
        "time": "2026-11-24T15:42:10Z", "data": {"po": "PO-1", "supplier": "SUP-1",
        "previous_date": "0001-01-01", "promised_date": "2026-12-09"}});
    assert_eq!(pointers(&moved), ["/data/previous_date"]);
}

#[test]
fn attribute_names_are_lower_case_and_values_hold_no_control_characters() {
    let mut event = valid_receipt();
    event["CorrelationId"] = json!("po:PO-1");
    assert_eq!(parse(&event).unwrap_err().0[0].pointer, "/CorrelationId");
    for bad in ["evt-\u{0}-1", "x\u{1b}[31m", "x\u{7f}", "x\u{85}"] {
        let mut event = valid_receipt();
        event["id"] = json!(bad);
        let problems = parse(&event).unwrap_err().0;
        assert!(problems.iter().any(|p| p.pointer == "/id" && p.message.contains("control")), "{bad:?}: {problems:?}");
    }
    let mut event = valid_receipt();
    event["data"]["note"] = json!("line one\nline two");
    assert!(parse(&event).is_ok(), "free text in data may have line breaks");
}

#[test]
fn keys_and_texts_of_data_hold_no_control_characters_but_texts_keep_line_breaks() {
    let with = |at: &[&str], value: &str| {
        let mut event = envelope("exception.integration", examples()[13].1.clone());
        let mut slot = &mut event["data"];
        for key in at {
            slot = &mut slot[*key];
        }
        *slot = json!(value);
        parse(&event).map(|_| ()).map_err(|e| e.0.into_iter().map(|p| p.pointer).collect::<Vec<_>>())
    };
    assert_eq!(with(&["message"], "read timed out\r\n\tafter 30 s"), Ok(()));
    assert_eq!(with(&["summary"], "a\u{0}b"), Err(vec!["/data/summary".to_owned()]));
    assert_eq!(with(&["message"], "bell\u{7}"), Err(vec!["/data/message".to_owned()]));
    assert_eq!(with(&["operation"], "tms.create\n"), Err(vec!["/data/operation".to_owned()]));
    assert_eq!(with(&["refs", "shipment"], "SH\u{0}1"), Err(vec!["/data/refs/shipment".to_owned()]));
}

#[test]
fn data_base64_is_read_as_the_json_it_encodes() {
    use base64::Engine;
    let mut event = valid_receipt();
    let data = event.as_object_mut().unwrap().remove("data").unwrap();
    event["data_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(data.to_string()));
    let decoded = with_json_data(&event).unwrap();
    assert_eq!(decoded["data"], data);
    assert!(decoded.get("data_base64").is_none());
    assert!(parse(&decoded).is_ok());
    let mut both = event.clone();
    both["data"] = json!({});
    assert_eq!(with_json_data(&both).unwrap_err().0[0].pointer, "/data_base64");
    event["data_base64"] = json!("not base64!");
    assert_eq!(with_json_data(&event).unwrap_err().0[0].pointer, "/data_base64");
}

#[test]
fn a_whole_number_is_whole_however_it_is_written() {
    let mut event = valid_receipt();
    event["data"]["line"] = json!(2.0);
    assert!(parse(&event).is_ok());
    event["data"]["line"] = json!(2.5);
    assert_eq!(parse(&event).unwrap_err().0[0].pointer, "/data/line");
}

#[test]
fn a_day_in_a_shape_accepted_before_is_refused_when_new_and_read_when_stored() {
    let event = envelope(
        "exception.supplier_date_change",
        json!({"po": "PO-1", "supplier": "SUP-1", "previous_date": "2026-12-1", "promised_date": " 2026-12-09"}),
    );
    let refused = parse(&event).expect_err("a day is written 2026-12-09");
    assert_eq!(pointers(&refused), ["/data/previous_date", "/data/promised_date"]);
    let stored = parse_stored(&event).expect("an event accepted before is read again");
    assert_eq!(stored.id, "evt-1");
}
