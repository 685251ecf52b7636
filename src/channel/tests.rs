use chrono::TimeZone;

use super::*;

fn notice(level: Option<EscalationLevel>) -> Notice {
    Notice {
        level,
        title: "EX-42 breached in Receiving: short <receipt> & more".into(),
        subject: Some(NoticeSubject {
            id: 42,
            queue: "receiving".into(),
            severity: Severity::High,
            summary: "short <receipt> & more".into(),
            url: "https://crossdock.example.com/exceptions/42".into(),
        }),
        recipients: vec![Recipient { username: "sam".into(), display_name: "Sam Supervisor".into() }],
        at: Utc.with_ymd_and_hms(2026, 12, 2, 8, 30, 0).unwrap(),
    }
}

#[test]
fn a_channel_names_every_problem_at_its_field() {
    let mut spec = ChannelSpec::new(" ops ", ChannelKind::Webhook, "ftp://x");
    spec.levels.clear();
    spec.queues = vec![" ".into()];
    spec.retry_policy = Some("".into());
    spec.timeout_ms = 10;
    let problems = spec.validate().unwrap_err();
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(pointers, ["/name", "/url", "/levels", "/queues", "/retry_policy", "/timeout_ms"]);
    assert!(ChannelSpec::new("ops", ChannelKind::Slack, "https://hooks.example.com/T1").validate().is_ok());
}

#[test]
fn a_channel_carries_only_its_levels_and_queues_while_enabled() {
    let mut spec = ChannelSpec::new("ops", ChannelKind::Teams, "https://teams.example.com/hook");
    assert!(spec.carries(EscalationLevel::AtRisk, "receiving"));
    spec.levels = [EscalationLevel::Breached].into();
    spec.queues = vec!["receiving".into()];
    assert!(spec.carries(EscalationLevel::Breached, "receiving"));
    assert!(!spec.carries(EscalationLevel::AtRisk, "receiving"));
    assert!(!spec.carries(EscalationLevel::Breached, "billing"));
    spec.enabled = false;
    assert!(!spec.carries(EscalationLevel::Breached, "receiving"));
}

#[test]
fn a_persons_outward_levels_round_trip_through_their_bits() {
    for bits in 0..8 {
        assert_eq!(bits_of_levels(&levels_from_bits(bits)), bits);
    }
    assert_eq!(levels_from_bits(2), [EscalationLevel::Breached].into());
}

#[test]
fn the_webhook_message_is_typed_and_carries_the_exception_and_its_people() {
    let body = message(ChannelKind::Webhook, &notice(Some(EscalationLevel::Breached)));
    assert_eq!(body["type"], "notification.breached");
    assert_eq!(body["timestamp"], "2026-12-02T08:30:00.000Z");
    assert_eq!(body["data"]["exception"]["id"], 42);
    assert_eq!(body["data"]["exception"]["severity"], "high");
    assert_eq!(body["data"]["recipients"][0]["username"], "sam");
    assert_eq!(message(ChannelKind::Webhook, &notice(None))["type"], "notification.test");
}

#[test]
fn the_slack_message_links_the_exception_and_escapes_its_text() {
    let body = message(ChannelKind::Slack, &notice(Some(EscalationLevel::Breached)));
    let text = body["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(text.starts_with("*Breached*: <https://crossdock.example.com/exceptions/42|EX-42"), "{text}");
    assert!(text.contains("short &lt;receipt&gt; &amp; more") && text.ends_with("For Sam Supervisor"), "{text}");
    assert!(body["text"].as_str().unwrap().starts_with("Breached: EX-42"));
}

#[test]
fn the_teams_message_is_an_adaptive_card_opening_the_exception() {
    let body = message(ChannelKind::Teams, &notice(Some(EscalationLevel::AtRisk)));
    let card = &body["attachments"][0];
    assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["body"][0]["text"], "At risk");
    assert_eq!(card["content"]["actions"][0]["url"], "https://crossdock.example.com/exceptions/42");
    let test = message(ChannelKind::Teams, &Notice { subject: None, ..notice(None) });
    assert_eq!(test["attachments"][0]["content"]["actions"], json!([]));
}

#[test]
fn the_audit_trail_keeps_a_channels_host_never_its_path() {
    let spec = ChannelSpec::new("ops", ChannelKind::Slack, "https://hooks.slack.example.com/services/T0/B0/secret?x=1");
    assert_eq!(spec.redacted().url, "https://hooks.slack.example.com/…");
    assert_eq!(spec.redacted().name, "ops");
}
