//! No input makes the ingest API answer 5xx or store anything it should not.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::ingest::partial_receipt;

const STRUCTURED: &str = "application/cloudevents+json";
const BATCH: &str = "application/cloudevents-batch+json";

enum Key {
    None,
    Good,
    Unknown,
    Revoked,
}

struct Case {
    name: &'static str,
    key: Key,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
    pointer: Option<&'static str>,
}

fn with(f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut e = partial_receipt("bad-1", "PO-1");
    f(&mut e);
    e.to_string().into_bytes()
}

fn case(
    name: &'static str,
    key: Key,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
    pointer: Option<&'static str>,
) -> Case {
    Case { name, key, content_type, body, status, pointer }
}

fn cases() -> Vec<Case> {
    let good = with(|_| {});
    let too_many: Vec<Value> = (0..1001).map(|i| partial_receipt(&format!("m-{i}"), "PO-1")).collect();
    vec![
        case("no key", Key::None, STRUCTURED, good.clone(), 401, None),
        case("an unknown key", Key::Unknown, STRUCTURED, good.clone(), 401, None),
        case("a revoked key", Key::Revoked, STRUCTURED, good.clone(), 401, None),
        case("a wrong content type", Key::Good, "text/xml", good.clone(), 415, None),
        case("no content type", Key::Good, "", good.clone(), 415, None),
        case("malformed JSON", Key::Good, STRUCTURED, b"{\"specversion\": ".to_vec(), 400, Some("")),
        case("invalid UTF-8", Key::Good, STRUCTURED, vec![0xff, 0xfe, 0x7b], 400, Some("")),
        case("a body over the limit", Key::Good, STRUCTURED, vec![b' '; 1024 * 1024 + 10], 413, None),
        case("a batch over the limit", Key::Good, BATCH, json!(too_many).to_string().into_bytes(), 413, None),
        case("an empty batch", Key::Good, BATCH, b"[]".to_vec(), 400, Some("")),
        case("a batch that is not an array", Key::Good, BATCH, good.clone(), 400, Some("")),
        case("an event that is not an object", Key::Good, STRUCTURED, b"[1, 2]".to_vec(), 400, Some("")),
        case(
            "a missing id",
            Key::Good,
            STRUCTURED,
            with(|e| {
                e.as_object_mut().unwrap().remove("id");
            }),
            400,
            Some("/id"),
        ),
        case("an id that is a number", Key::Good, STRUCTURED, with(|e| e["id"] = json!(7)), 400, Some("/id")),
        case(
            "an unknown type",
            Key::Good,
            STRUCTURED,
            with(|e| e["type"] = json!("exception.gremlins")),
            400,
            Some("/type"),
        ),
        case(
            "a bad timestamp",
            Key::Good,
            STRUCTURED,
            with(|e| e["time"] = json!("24/11/2026 15:42")),
            400,
            Some("/time"),
        ),
        case(
            "a wrong specversion",
            Key::Good,
            STRUCTURED,
            with(|e| e["specversion"] = json!("0.3")),
            400,
            Some("/specversion"),
        ),
        case(
            "data that is not an object",
            Key::Good,
            STRUCTURED,
            with(|e| e["data"] = json!("short")),
            400,
            Some("/data"),
        ),
        case(
            "a negative quantity",
            Key::Good,
            STRUCTURED,
            with(|e| e["data"]["received_qty"] = json!(-5)),
            400,
            Some("/data/received_qty"),
        ),
        case(
            "a source outside the key's prefix",
            Key::Good,
            STRUCTURED,
            with(|e| e["source"] = json!("t-erp/x")),
            403,
            Some("/source"),
        ),
    ]
}

#[tokio::test]
async fn every_bad_input_gets_a_problem_with_its_status_and_pointer_and_stores_nothing() {
    let app = spawn_app().await;
    let good = app.source("bad-input", "t-wms/", 100_000.0, 100_000).await;
    let revoked = app.source("revoked", "t-revoked/", 100.0, 100).await;
    app.services.revoke_source_keys(&crossdock_server::auth::Operator::command_line(), "revoked").await.unwrap();
    for case in cases() {
        let key = match case.key {
            Key::None => None,
            Key::Good => Some(good.as_str()),
            Key::Unknown => Some("cdx_this-key-was-never-issued-by-us"),
            Key::Revoked => Some(revoked.as_str()),
        };
        let response = if case.content_type.is_empty() {
            let mut r = app.client.post(format!("{}/api/v1/events", app.address)).body(case.body.clone());
            if let Some(k) = key {
                r = r.bearer_auth(k);
            }
            r.send().await.unwrap()
        } else {
            app.post_events(key, case.content_type, case.body.clone()).await
        };
        assert_eq!(response.status().as_u16(), case.status, "{}", case.name);
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{}", case.name);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], case.status, "{}", case.name);
        assert!(problem["title"].is_string() && problem["type"].is_string(), "{}", case.name);
        if let Some(pointer) = case.pointer {
            assert_eq!(problem["pointer"], pointer, "{}: {problem}", case.name);
        }
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events").await, 0, "nothing stored");
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,16}".prop_map(Value::String),
        Just(json!("1.0")),
        Just(json!("t-wms/x")),
        Just(json!("exception.partial_receipt")),
        Just(json!("2026-11-24T15:42:10Z")),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("specversion".to_owned()),
                    Just("id".to_owned()),
                    Just("source".to_owned()),
                    Just("type".to_owned()),
                    Just("time".to_owned()),
                    Just("data".to_owned()),
                    Just("refs".to_owned()),
                    Just("po".to_owned()),
                    Just("line".to_owned()),
                    ".{0,8}",
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_request() -> impl Strategy<Value = (usize, Vec<u8>)> {
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        arb_json().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(arb_json(), 0..6).prop_map(|v| Value::Array(v).to_string().into_bytes()),
    ];
    (0usize..4, body)
}

#[test]
fn random_bytes_and_random_json_never_make_the_server_fail() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (app, key): (TestApp, String) = runtime.block_on(async {
        let app = spawn_app().await;
        let key = app.source("fuzz", "t-wms/", 1_000_000.0, 1_000_000).await;
        (app, key)
    });
    let content_types = [STRUCTURED, BATCH, "application/json", "text/plain"];
    let mut runner = TestRunner::new(Config { cases: 300, failure_persistence: None, ..Config::default() });
    runner
        .run(&arb_request(), |(ct, body)| {
            let status = runtime.block_on(app.post_events(Some(&key), content_types[ct], body)).status();
            prop_assert!(status.as_u16() < 500, "answered {}", status);
            Ok(())
        })
        .unwrap();
    runtime.block_on(async {
        assert_eq!(app.get("/readyz").await.status(), 200, "still serving");
    });
}
