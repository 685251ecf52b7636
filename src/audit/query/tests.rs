use super::*;

#[test]
fn a_filter_reads_from_its_address_and_back() {
    let query = "actor=pat&action=exception.claimed&entity=exception&entity_id=41&queue=receiving&site=DC-ATL\
                 &key=PO-10045&from=2026-11-01&to=2026-11-30&q=short+again&order=oldest";
    let filter = AuditFilter::parse_query(query).unwrap();
    assert_eq!(filter.actor, Some(ActorFilter::Exactly(Actor::User("pat".into()))));
    assert_eq!(filter.action, Some(AuditAction::ExceptionClaimed));
    assert_eq!(filter.words.as_deref(), Some("short again"));
    assert_eq!(filter.order, AuditOrder::OldestFirst);
    assert_eq!(AuditFilter::parse_query(&filter.to_query()), Ok(filter.clone()));
    let (start, end) = filter.span();
    assert_eq!(start.unwrap().to_rfc3339(), "2026-11-01T00:00:00+00:00");
    assert_eq!(end.unwrap().to_rfc3339(), "2026-12-01T00:00:00+00:00");
    assert_eq!(AuditFilter::parse_query("actor=system").unwrap().actor, Some(ActorFilter::System));
    assert_eq!(
        AuditFilter::parse_query("actor=source:wms").unwrap().actor,
        Some(ActorFilter::Exactly(Actor::Source("wms".into())))
    );
    assert_eq!(AuditFilter::parse_query(""), Ok(AuditFilter::default()));
}

#[test]
fn each_field_that_does_not_read_is_named() {
    let problems =
        AuditFilter::parse_query("actor=a%20b&action=x&entity=y&exception=-1&from=yesterday&order=up").unwrap_err();
    let fields: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(fields, ["actor", "action", "entity", "exception", "from", "order"]);
    let backwards = AuditFilter::parse_query("from=2026-12-02&to=2026-12-01").unwrap_err();
    assert_eq!(backwards[0].pointer, "to");
    assert_eq!(AuditFilter::parse_query("entity_id=4").unwrap_err()[0].pointer, "entity_id");
}

#[test]
fn a_diff_names_the_fields_that_changed() {
    let before = serde_json::json!({"status": "new", "assignee": null, "queue": "receiving", "due": {"resolve": "a"}});
    let after = serde_json::json!({"status": "acknowledged", "assignee": "pat", "queue": "receiving", "due": {"resolve": "b"}, "tags": ["x"]});
    let d = diff(Some(&before), Some(&after));
    let line = |p: &str, b: Option<&str>, a: Option<&str>| FieldDiff {
        path: p.into(),
        before: b.map(Into::into),
        after: a.map(Into::into),
    };
    assert_eq!(
        d,
        vec![
            line("assignee", Some("null"), Some("pat")),
            line("due.resolve", Some("a"), Some("b")),
            line("status", Some("new"), Some("acknowledged")),
            line("tags[0]", None, Some("x")),
        ]
    );
    assert_eq!(diff(None, Some(&serde_json::json!({"name": "wms"})))[0], line("name", None, Some("wms")));
    assert!(diff(Some(&before), Some(&before)).is_empty());
}
