use crate::calendar::{CalendarSpec, HoursSpec};
use crate::config::{ConfigurationSpec, QueueSpec};
use crate::lifecycle::{ResolutionCode, WaitParty};
use crate::routing::RuleSetSpec;
use crate::sla::{SlaPolicySpec, SlaTargets};

use super::*;

fn config() -> Configuration {
    let t = SlaTargets { acknowledge_minutes: 60, resolve_minutes: 240 };
    let policy = SlaPolicySpec {
        name: "Standard".into(),
        targets: Severity::ALL.iter().map(|s| (*s, t)).collect(),
        at_risk_percent: 75,
    };
    let queue = |key: &str| QueueSpec {
        key: key.into(),
        name: key.into(),
        team: "Team".into(),
        sla_policy: "Standard".into(),
        site: None,
        calendar: Some(CalendarSpec { time_zone: "UTC".into(), hours: HoursSpec::AlwaysOpen, holidays: vec![] }),
    };
    Configuration::build(ConfigurationSpec {
        sites: vec![],
        policies: vec![(1, policy)],
        queues: vec![queue("receiving"), queue("purchasing")],
        routing: Some(RuleSetSpec { rules: vec![], fallback_queue: "receiving".into() }),
        routing_version: None,
        expectations: None,
        escalations: None,
        kpi_targets: None,
    })
    .expect("a valid configuration")
}

fn user(name: &str) -> Username {
    Username::parse(name).expect("a user name")
}

fn state(status: Status, assignee: Option<&str>) -> ExceptionState {
    ExceptionState {
        id: ExceptionId::new(4),
        queue: QueueKey::parse("receiving").expect("a key"),
        status,
        severity: Severity::Medium,
        assignee: assignee.map(user),
        version: 3,
        sla_policy_version: Some(1),
        due: Deadlines::default(),
    }
}

fn reason(text: &str) -> Reason {
    Reason::parse(text).expect("a reason")
}

fn setting(config: &Configuration) -> Setting<'_> {
    Setting { seen: Some(3), config, candidate: None }
}

#[test]
fn claiming_new_work_takes_it_and_acknowledges_it() {
    let config = config();
    let pat = user("pat");
    let by = Doer::Person { username: &pat, role: Role::Staff };
    let d = decide(&state(Status::New, None), &Change::Claim, &by, setting(&config)).unwrap();
    assert_eq!(d.action, AuditAction::ExceptionClaimed);
    assert_eq!(d.after.assignee.as_deref(), Some("pat"));
    assert_eq!(d.after.status, Status::Acknowledged);
    assert!(d.alters());
    assert_eq!(d.describe(), "status: New → Acknowledged; assignee: — → pat");
    let started = decide(&state(Status::InProgress, None), &Change::Claim, &by, setting(&config)).unwrap();
    assert_eq!(started.after.status, Status::InProgress, "work under way keeps its status");
}

#[test]
fn claiming_what_one_holds_already_is_refused_as_a_no_op() {
    let config = config();
    let pat = user("pat");
    let by = Doer::Person { username: &pat, role: Role::Staff };
    let refused = decide(&state(Status::Acknowledged, Some("pat")), &Change::Claim, &by, setting(&config));
    assert_eq!(refused, Err(Refusal::Unchanged("EX-4 is yours already".into())));
}

#[test]
fn the_choices_offered_are_exactly_those_allowed() {
    let pat = user("pat");
    let new = offered(Status::New, None, &pat, Role::Staff);
    assert!(
        new.contains(&ChangeKind::Claim) && new.contains(&ChangeKind::Wait) && new.contains(&ChangeKind::Acknowledge)
    );
    assert!(!new.contains(&ChangeKind::Resume) && !new.contains(&ChangeKind::Reopen));
    let mine = offered(Status::Acknowledged, Some("pat"), &pat, Role::Staff);
    assert!(!mine.contains(&ChangeKind::Claim), "nobody claims what they hold");
    let held = offered(Status::InProgress, Some("lee"), &pat, Role::Staff);
    assert!(!held.contains(&ChangeKind::Claim) && !held.contains(&ChangeKind::Assign));
    let supervisor = offered(Status::InProgress, Some("lee"), &pat, Role::Supervisor);
    assert!(supervisor.contains(&ChangeKind::Claim) && supervisor.contains(&ChangeKind::Assign));
    assert!(offered(Status::New, None, &pat, Role::Auditor).is_empty(), "auditors change nothing");
}

#[test]
fn staff_may_not_take_what_someone_else_holds_but_a_supervisor_may() {
    let config = config();
    let (pat, sam) = (user("pat"), user("sam"));
    let held = state(Status::InProgress, Some("lee"));
    let staff = Doer::Person { username: &pat, role: Role::Staff };
    let refused = decide(&held, &Change::Claim, &staff, setting(&config)).unwrap_err();
    assert_eq!(refused, Refusal::NotAllowed("EX-4 is assigned to lee; only a supervisor may take it".into()));
    let supervisor = Doer::Person { username: &sam, role: Role::Supervisor };
    assert!(decide(&held, &Change::Claim, &supervisor, setting(&config)).is_ok());
}

#[test]
fn a_change_based_on_an_older_version_is_stale_but_a_comment_is_not() {
    let config = config();
    let pat = user("pat");
    let by = Doer::Person { username: &pat, role: Role::Staff };
    let old = Setting { seen: Some(2), ..setting(&config) };
    assert_eq!(decide(&state(Status::New, None), &Change::Claim, &by, old), Err(Refusal::Stale));
    let comment = Change::Comment { text: reason("called the supplier") };
    let d = decide(&state(Status::New, None), &comment, &by, old).unwrap();
    assert_eq!(d.comment.as_deref(), Some("called the supplier"));
    assert!(!d.alters());
}

#[test]
fn an_assignment_checks_the_person_and_the_queue() {
    let config = config();
    let sam = user("sam");
    let by = Doer::Person { username: &sam, role: Role::Supervisor };
    let to = |assignee: &str, queue: Option<&str>| Change::Assign {
        assignee: Some(assignee.into()),
        queue: queue.map(Into::into),
        reason: reason("covering the shift"),
    };
    let pat =
        Candidate { username: user("pat"), role: Role::Staff, queues: vec![QueueKey::parse("receiving").unwrap()] };
    let with = |candidate| Setting { candidate, ..setting(&config) };
    let s = state(Status::New, None);
    let d = decide(&s, &to(" PAT ", None), &by, with(Some(&pat))).unwrap();
    assert_eq!(d.after.assignee.as_deref(), Some("pat"));
    assert_eq!(d.reason.as_deref(), Some("covering the shift"));
    let elsewhere = decide(&s, &to("pat", Some("purchasing")), &by, with(Some(&pat))).unwrap_err();
    assert_eq!(
        elsewhere,
        Refusal::Invalid { field: "assignee", message: "pat does not work in queue purchasing".into() }
    );
    let nobody = decide(&s, &to("kim", None), &by, with(None)).unwrap_err();
    assert!(matches!(nobody, Refusal::Invalid { field: "assignee", .. }));
    let no_queue = decide(&s, &to("pat", Some("billing")), &by, with(Some(&pat))).unwrap_err();
    assert_eq!(no_queue, Refusal::Invalid { field: "queue", message: "there is no queue `billing`".into() });
    let auditor = Candidate { username: user("alex"), role: Role::Auditor, queues: vec![] };
    assert!(decide(&s, &to("alex", None), &by, with(Some(&auditor))).is_err());
}

#[test]
fn the_lifecycle_decides_status_moves_and_their_reasons() {
    let config = config();
    let pat = user("pat");
    let by = Doer::Person { username: &pat, role: Role::Staff };
    let wait = Change::Status(Action::Wait { party: WaitParty::Supplier, reason: reason("new date asked") });
    let d = decide(&state(Status::InProgress, Some("pat")), &wait, &by, setting(&config)).unwrap();
    assert_eq!((d.action, d.after.status), (AuditAction::ExceptionWaiting, Status::Waiting));
    assert_eq!(d.reason.as_deref(), Some("waiting on supplier: new date asked"));
    let refused = decide(&state(Status::Resolved, None), &wait, &by, setting(&config)).unwrap_err();
    assert!(matches!(refused, Refusal::WrongState(_)));
    let ack = decide(&state(Status::New, None), &Change::Status(Action::Acknowledge), &by, setting(&config)).unwrap();
    assert_eq!(ack.after.assignee.as_deref(), Some("pat"), "picking up unassigned work takes it");
}

#[test]
fn the_system_resolves_a_replayed_exception_without_taking_it() {
    let config = config();
    let by = Doer::System(SystemAgent::Replay);
    let resolve = Change::Status(Action::Resolve { code: ResolutionCode::Replayed, note: Some(reason("HTTP 200")) });
    let d = decide(&state(Status::New, None), &resolve, &by, Setting { seen: None, ..setting(&config) }).unwrap();
    assert_eq!(d.after.status, Status::Resolved);
    assert_eq!(d.after.assignee, None);
    assert_eq!(d.reason.as_deref(), Some("replayed: HTTP 200"));
    assert!(decide(&state(Status::New, None), &Change::Claim, &by, setting(&config)).is_err());
}

#[test]
fn actions_keep_their_wire_form() {
    let replay: TriageAction = serde_json::from_value(serde_json::json!({"kind": "replay"})).unwrap();
    assert_eq!(replay, TriageAction::Replay);
    assert_eq!(serde_json::to_value(&replay).unwrap(), serde_json::json!({"kind": "replay"}));
    let claim: TriageAction = serde_json::from_value(serde_json::json!({"kind": "claim"})).unwrap();
    assert_eq!(claim, TriageAction::claim());
    assert_eq!(serde_json::to_value(&claim).unwrap(), serde_json::json!({"kind": "claim"}));
    assert!(serde_json::from_value::<TriageAction>(serde_json::json!({"kind": "explode"})).is_err());
}
