use serde_json::json;

use super::*;

const QUEUES: [&str; 6] = ["purchasing", "receiving", "inventory-control", "transportation", "billing", "triage"];

fn exists(k: &QueueKey) -> bool {
    QUEUES.contains(&k.as_str())
}

fn cond(field: &str, op: &str, value: Value) -> ConditionSpec {
    ConditionSpec { field: field.into(), op: op.into(), value }
}

fn rule(name: &str, queue: &str, conditions: Vec<ConditionSpec>) -> RuleSpec {
    RuleSpec {
        name: name.into(),
        enabled: true,
        conditions,
        queue: queue.into(),
        severity: None,
        override_severity: false,
        assignee: None,
    }
}

fn demo_rules() -> RuleSetSpec {
    let mut sup017 = rule(
        "SUP-017 receipts to purchasing",
        "purchasing",
        vec![cond("type", "equals", json!("exception.partial_receipt")), cond("supplier", "equals", json!("SUP-017"))],
    );
    sup017.assignee = Some("pat".into());
    let mut carriers = rule(
        "Carrier timeouts",
        "transportation",
        vec![
            cond("type", "equals", json!("exception.integration")),
            cond("data:/system", "one_of", json!(["carrier", "tms"])),
        ],
    );
    carriers.severity = Some(Severity::Critical);
    carriers.override_severity = true;
    let big = rule(
        "Big shortfalls",
        "inventory-control",
        vec![cond("type", "equals", json!("exception.partial_receipt")), cond("data:/expected_qty", "ge", json!(1000))],
    );
    RuleSetSpec {
        rules: vec![
            sup017,
            carriers,
            big,
            rule("Receipts", "receiving", vec![cond("type", "equals", json!("exception.partial_receipt"))]),
            rule(
                "Atlanta purchasing",
                "purchasing",
                vec![
                    cond("site", "prefix", json!("DC-A")),
                    cond("type", "one_of", json!(["exception.supplier_date_change"])),
                ],
            ),
        ],
        fallback_queue: "triage".into(),
    }
}

fn facts<'a>(kind: ExceptionKind, data: &'a Value, supplier: Option<&str>) -> RoutingFacts<'a> {
    RoutingFacts {
        kind,
        source: "wms/dc-atl",
        site: data.get("site").and_then(Value::as_str),
        supplier: supplier.map(str::to_owned),
        severity: data.get("severity").and_then(Value::as_str).and_then(|s| s.parse().ok()),
        data,
    }
}

#[test]
fn the_first_matching_rule_decides_queue_and_assignee() {
    let rules = RuleSet::from_spec(&demo_rules(), exists).unwrap();
    let data = json!({"site": "DC-ATL", "expected_qty": 2400, "received_qty": 10});
    let decision = rules.route(&facts(ExceptionKind::PartialReceipt, &data, Some("SUP-017")));
    assert_eq!(decision.queue.as_str(), "purchasing");
    assert_eq!(decision.assignee.as_deref(), Some("pat"));
    assert_eq!(decision.rule, Some(0));
    assert_eq!(decision.severity, Severity::Medium, "the type's default");

    let other = rules.route(&facts(ExceptionKind::PartialReceipt, &data, Some("SUP-022")));
    assert_eq!((other.queue.as_str(), other.rule), ("inventory-control", Some(2)));
    let small = json!({"site": "DC-ATL", "expected_qty": 24, "received_qty": 10});
    assert_eq!(rules.route(&facts(ExceptionKind::PartialReceipt, &small, None)).queue.as_str(), "receiving");
}

#[test]
fn the_trace_says_why_earlier_rules_did_not_match() {
    let rules = RuleSet::from_spec(&demo_rules(), exists).unwrap();
    let data = json!({"site": "DC-ATL", "expected_qty": 24, "received_qty": 10});
    let decision = rules.route(&facts(ExceptionKind::PartialReceipt, &data, Some("SUP-022")));
    assert_eq!(decision.trace.len(), 4);
    assert_eq!(
        decision.trace[0].outcome,
        RuleOutcome::NotMatched { condition: 1, reason: "supplier is SUP-022 (not SUP-017)".into() }
    );
    assert_eq!(
        decision.trace[2].outcome,
        RuleOutcome::NotMatched { condition: 1, reason: "data:/expected_qty is 24 (not >= 1000)".into() }
    );
    assert_eq!(decision.trace[3].outcome, RuleOutcome::Matched);
}

#[test]
fn a_rule_severity_fills_in_or_overrides() {
    let rules = RuleSet::from_spec(&demo_rules(), exists).unwrap();
    let data = json!({"system": "carrier", "severity": "low"});
    let decision = rules.route(&facts(ExceptionKind::Integration, &data, None));
    assert_eq!((decision.queue.as_str(), decision.severity), ("transportation", Severity::Critical));
    let mut spec = demo_rules();
    spec.rules[1].override_severity = false;
    let rules = RuleSet::from_spec(&spec, exists).unwrap();
    assert_eq!(rules.route(&facts(ExceptionKind::Integration, &data, None)).severity, Severity::Low, "the event's own");
}

#[test]
fn nothing_matching_goes_to_the_catch_all_queue() {
    let rules = RuleSet::from_spec(&demo_rules(), exists).unwrap();
    let data = json!({"site": "DC-RNO"});
    let decision = rules.route(&facts(ExceptionKind::SupplierDateChange, &data, None));
    assert_eq!((decision.queue.as_str(), decision.rule), ("triage", None));
    assert_eq!(decision.trace.len(), 5);
}

#[test]
fn disabled_rules_are_skipped() {
    let mut spec = demo_rules();
    spec.rules[0].enabled = false;
    let rules = RuleSet::from_spec(&spec, exists).unwrap();
    let data = json!({"site": "DC-ATL", "expected_qty": 5});
    let decision = rules.route(&facts(ExceptionKind::PartialReceipt, &data, Some("SUP-017")));
    assert_eq!(decision.trace[0].outcome, RuleOutcome::Disabled);
    assert_eq!(decision.queue.as_str(), "receiving");
}

fn problems(spec: &RuleSetSpec) -> Vec<(String, String)> {
    RuleSet::from_spec(spec, exists).unwrap_err().into_iter().map(|p| (p.pointer, p.message)).collect()
}

#[test]
fn unknown_queues_are_refused() {
    let mut spec = demo_rules();
    spec.rules[3].queue = "returns".into();
    spec.fallback_queue = "Nowhere".into();
    let found = problems(&spec);
    assert!(found.iter().any(|(p, m)| p == "/rules/3/queue" && m.contains("no queue `returns`")), "{found:?}");
    assert!(found.iter().any(|(p, _)| p == "/fallback_queue"), "{found:?}");
}

#[test]
fn a_rule_that_matches_nothing_is_refused() {
    for conditions in [
        vec![cond("site", "equals", json!("DC-ATL")), cond("site", "equals", json!("DC-DAL"))],
        vec![cond("site", "one_of", json!(["DC-ATL", "DC-DAL"])), cond("site", "prefix", json!("DC-R"))],
        vec![cond("data:/qty", "gt", json!(10)), cond("data:/qty", "lt", json!(5))],
        vec![cond("data:/qty", "gt", json!(5)), cond("data:/qty", "le", json!(5))],
        vec![cond("source", "prefix", json!("wms/")), cond("source", "prefix", json!("erp/"))],
    ] {
        let spec =
            RuleSetSpec { rules: vec![rule("Impossible", "receiving", conditions)], fallback_queue: "triage".into() };
        let found = problems(&spec);
        assert!(found.iter().any(|(p, m)| p == "/rules/0/conditions" && m.contains("never match")), "{found:?}");
    }
}

#[test]
fn a_rule_behind_a_catch_all_or_a_more_general_rule_is_refused() {
    let mut spec = demo_rules();
    spec.rules.insert(1, rule("Everything", "triage", vec![]));
    let found = problems(&spec);
    assert!(
        found
            .iter()
            .any(|(p, m)| p == "/rules/2" && m.contains("rule 2 (\"Everything\") before it matches everything")),
        "{found:?}"
    );

    let mut spec = demo_rules();
    spec.rules.push(rule(
        "Also receipts",
        "receiving",
        vec![cond("type", "equals", json!("exception.partial_receipt")), cond("site", "equals", json!("DC-DAL"))],
    ));
    let found = problems(&spec);
    assert!(found.iter().any(|(p, m)| p == "/rules/5" && m.contains("rule 4")), "{found:?}");
}

#[test]
fn a_disabled_catch_all_shadows_nothing() {
    let mut spec = demo_rules();
    let mut all = rule("Everything", "triage", vec![]);
    all.enabled = false;
    spec.rules.insert(0, all);
    assert!(RuleSet::from_spec(&spec, exists).is_ok());
}

#[test]
fn malformed_conditions_name_their_field() {
    let spec = RuleSetSpec {
        rules: vec![rule(
            "Bad",
            "receiving",
            vec![
                cond("colour", "equals", json!("red")),
                cond("site", "matches", json!("x")),
                cond("data:/qty", "gt", json!("lots")),
                cond("type", "equals", json!("exception.alien")),
                cond("severity", "one_of", json!([])),
                cond("site", "lt", json!(3)),
                cond("data:", "equals", json!("x")),
            ],
        )],
        fallback_queue: "triage".into(),
    };
    let found: Vec<String> = problems(&spec).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        found,
        vec![
            "/rules/0/conditions/0/field",
            "/rules/0/conditions/1/op",
            "/rules/0/conditions/2/value",
            "/rules/0/conditions/3/value",
            "/rules/0/conditions/4/value",
            "/rules/0/conditions/5/op",
            "/rules/0/conditions/6/field",
        ]
    );
}

#[test]
fn the_rule_set_is_stored_as_readable_json() {
    let spec = demo_rules();
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(
        json["rules"][1]["conditions"][1],
        json!({"field": "data:/system", "op": "one_of", "value": ["carrier", "tms"]})
    );
    let back: RuleSetSpec = serde_json::from_value(json).unwrap();
    assert_eq!(back, spec);
}
