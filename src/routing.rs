//! Routing rules: an ordered list that files each exception into a queue.
//!
//! The first enabled rule whose conditions all hold decides the queue, the
//! severity (used when the event carries none, or always with
//! `override_severity`) and the default assignee; when none matches, the
//! exception goes to the catch-all queue.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::Event;
use crate::queue::QueueKey;
use crate::{ExceptionKind, FieldProblem, RefKind, Severity, named_enum};

named_enum! {
    /// The attributes of an exception a condition can look at.
    pub enum MatchField ("field") {
        Type => "type",
        Source => "source",
        Site => "site",
        Supplier => "supplier",
        Severity => "severity",
    }
}

named_enum! {
    /// How a condition compares.
    pub enum Operator ("operator") {
        Equals => "equals",
        OneOf => "one_of",
        Prefix => "prefix",
        Lt => "lt",
        Le => "le",
        Gt => "gt",
        Ge => "ge",
    }
}

/// One condition as admins write it: `{"field": "supplier", "op": "equals", "value": "SUP-017"}`;
/// a field of the data is named `data:/pointer`, e.g. `data:/system`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionSpec {
    pub field: String,
    pub op: String,
    pub value: Value,
}

/// One rule as admins write it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSpec {
    pub name: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
    #[serde(default)]
    pub conditions: Vec<ConditionSpec>,
    pub queue: String,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub override_severity: bool,
    #[serde(default)]
    pub assignee: Option<String>,
}

fn enabled() -> bool {
    true
}

/// A rule set as admins write it and the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSetSpec {
    pub rules: Vec<RuleSpec>,
    /// Where exceptions no rule matches go.
    pub fallback_queue: String,
}

/// What a condition looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Field(MatchField),
    /// A JSON pointer into the event's `data`.
    Data(String),
}

/// How a condition tests its subject.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Equals(String),
    OneOf(Vec<String>),
    Prefix(String),
    Compare(Operator, f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub subject: Subject,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub enabled: bool,
    pub conditions: Vec<Condition>,
    pub queue: QueueKey,
    pub severity: Option<Severity>,
    pub override_severity: bool,
    pub assignee: Option<String>,
}

/// A validated rule set.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    rules: Vec<Rule>,
    fallback: QueueKey,
}

/// What routing looks at, taken from one exception event.
#[derive(Debug, Clone)]
pub struct RoutingFacts<'a> {
    pub kind: ExceptionKind,
    pub source: &'a str,
    pub site: Option<&'a str>,
    pub supplier: Option<String>,
    /// The severity the event carries, if any.
    pub severity: Option<Severity>,
    /// The event's `data` as sent.
    pub data: &'a Value,
}

impl<'a> RoutingFacts<'a> {
    /// The facts of an exception event; `None` for a milestone.
    pub fn of_event(event: &'a Event, data: &'a Value) -> Option<Self> {
        Some(Self {
            kind: event.exception_kind()?,
            source: &event.source,
            site: event.data.site.as_deref(),
            supplier: event.business_refs().get(RefKind::Supplier).map(str::to_owned),
            severity: event.data.severity,
            data,
        })
    }

    fn effective_severity(&self) -> Severity {
        self.severity.unwrap_or_else(|| self.kind.default_severity())
    }
}

/// Where an exception goes, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteDecision {
    pub queue: QueueKey,
    pub severity: Severity,
    pub assignee: Option<String>,
    /// Index of the rule that matched; `None` when the catch-all queue took it.
    pub rule: Option<usize>,
    /// For each rule before the match (or every rule): why it did not match.
    pub trace: Vec<RuleTrace>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleTrace {
    pub rule: usize,
    pub name: String,
    pub outcome: RuleOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RuleOutcome {
    Disabled,
    Matched,
    /// The first condition that did not hold, and why.
    NotMatched {
        condition: usize,
        reason: String,
    },
}

impl RuleSet {
    pub const MAX_RULES: usize = 500;
    pub const MAX_CONDITIONS: usize = 20;
    pub const MAX_NAME: usize = 100;

    /// Validates a rule set as a whole. `queue_exists` tells which queue keys
    /// name real queues.
    pub fn from_spec(spec: &RuleSetSpec, queue_exists: impl Fn(&QueueKey) -> bool) -> Result<Self, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut push = |pointer: String, message: String| problems.push(FieldProblem { pointer, message });
        let queue = |pointer: String, key: &str, push: &mut dyn FnMut(String, String)| match QueueKey::parse(key) {
            Ok(k) if queue_exists(&k) => Some(k),
            Ok(k) => {
                push(pointer, format!("there is no queue `{k}`"));
                None
            }
            Err(e) => {
                push(pointer, e.to_string());
                None
            }
        };
        if spec.rules.len() > Self::MAX_RULES {
            push("/rules".into(), format!("at most {} rules", Self::MAX_RULES));
        }
        let fallback = queue("/fallback_queue".into(), &spec.fallback_queue, &mut push);
        let mut rules = Vec::with_capacity(spec.rules.len());
        for (i, r) in spec.rules.iter().enumerate() {
            let at = |field: &str| format!("/rules/{i}/{field}");
            let name = r.name.trim();
            if name.is_empty() {
                push(at("name"), "a name is required".into());
            } else if name.chars().count() > Self::MAX_NAME {
                push(at("name"), format!("is longer than {} characters", Self::MAX_NAME));
            } else if !crate::text::is_one_line(name) {
                push(at("name"), "must not contain control characters".into());
            }
            let q = queue(at("queue"), &r.queue, &mut push);
            let assignee = match r.assignee.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
                None => None,
                Some(a) => match crate::accounts::Username::parse(a) {
                    Ok(name) => Some(name.to_string()),
                    Err(e) => {
                        push(at("assignee"), e.to_string());
                        None
                    }
                },
            };
            if r.override_severity && r.severity.is_none() {
                push(at("severity"), "overriding the severity needs a severity".into());
            }
            if r.conditions.len() > Self::MAX_CONDITIONS {
                push(at("conditions"), format!("at most {} conditions", Self::MAX_CONDITIONS));
            }
            let mut conditions = Vec::new();
            for (j, c) in r.conditions.iter().enumerate() {
                match parse_condition(c) {
                    Ok(c) => conditions.push(c),
                    Err((field, message)) => push(format!("/rules/{i}/conditions/{j}/{field}"), message),
                }
            }
            if conditions.len() == r.conditions.len()
                && let Some(why) = contradiction(&conditions)
            {
                push(at("conditions"), format!("this rule can never match: {why}"));
            }
            if let Some(q) = q {
                rules.push(Rule {
                    name: name.to_owned(),
                    enabled: r.enabled,
                    conditions,
                    queue: q,
                    severity: r.severity,
                    override_severity: r.override_severity,
                    assignee,
                });
            }
        }
        // Shadowing: an earlier enabled rule whose conditions are all among
        // this rule's conditions matches everything this one would.
        for (i, later) in rules.iter().enumerate() {
            if !later.enabled {
                continue;
            }
            if let Some((j, earlier)) = rules[..i]
                .iter()
                .enumerate()
                .find(|(_, e)| e.enabled && e.conditions.iter().all(|c| later.conditions.contains(c)))
            {
                let why = if earlier.conditions.is_empty() {
                    format!("rule {} (\"{}\") before it matches everything", j + 1, earlier.name)
                } else {
                    format!("rule {} (\"{}\") before it matches everything this rule does", j + 1, earlier.name)
                };
                push(format!("/rules/{i}"), format!("never reached: {why}"));
            }
        }
        match fallback {
            Some(fallback) if problems.is_empty() => Ok(Self { rules, fallback }),
            _ => Err(problems),
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn fallback(&self) -> &QueueKey {
        &self.fallback
    }

    /// The queue, severity and assignee for an exception, and why.
    pub fn route(&self, facts: &RoutingFacts<'_>) -> RouteDecision {
        let mut trace = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let outcome = if !rule.enabled {
                RuleOutcome::Disabled
            } else {
                match rule.conditions.iter().enumerate().find_map(|(j, c)| c.fails(facts).map(|r| (j, r))) {
                    None => RuleOutcome::Matched,
                    Some((condition, reason)) => RuleOutcome::NotMatched { condition, reason },
                }
            };
            let matched = outcome == RuleOutcome::Matched;
            trace.push(RuleTrace { rule: i, name: rule.name.clone(), outcome });
            if matched {
                let severity = match (rule.severity, rule.override_severity, facts.severity) {
                    (Some(s), true, _) => s,
                    (_, _, Some(given)) => given,
                    (Some(s), false, None) => s,
                    (None, _, None) => facts.kind.default_severity(),
                };
                return RouteDecision {
                    queue: rule.queue.clone(),
                    severity,
                    assignee: rule.assignee.clone(),
                    rule: Some(i),
                    trace,
                };
            }
        }
        RouteDecision {
            queue: self.fallback.clone(),
            severity: facts.effective_severity(),
            assignee: None,
            rule: None,
            trace,
        }
    }
}

fn parse_condition(spec: &ConditionSpec) -> Result<Condition, (&'static str, String)> {
    let subject =
        match spec.field.strip_prefix("data:") {
            Some(pointer) if pointer.starts_with('/') && pointer.len() > 1 => Subject::Data(pointer.to_owned()),
            Some(_) => {
                return Err(("field", "a data field is written data:/pointer, e.g. data:/system".into()));
            }
            None => Subject::Field(spec.field.parse().map_err(|_| {
                ("field", "must be type, source, site, supplier, severity or data:/pointer".to_owned())
            })?),
        };
    let op: Operator =
        spec.op.parse().map_err(|_| ("op", "must be equals, one_of, prefix, lt, le, gt or ge".to_owned()))?;
    let text = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let test = match op {
        Operator::Equals => Test::Equals(text(&spec.value).ok_or(("value", "must be a non-empty text".to_owned()))?),
        Operator::Prefix => Test::Prefix(text(&spec.value).ok_or(("value", "must be a non-empty text".to_owned()))?),
        Operator::OneOf => {
            let values: Option<Vec<String>> = spec.value.as_array().and_then(|a| a.iter().map(text).collect());
            match values {
                Some(v) if !v.is_empty() => Test::OneOf(v),
                _ => return Err(("value", "must be a non-empty list of texts".into())),
            }
        }
        Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
            let n = spec.value.as_f64().or_else(|| spec.value.as_str().and_then(|s| s.trim().parse().ok()));
            match n {
                Some(n) if n.is_finite() => Test::Compare(op, n),
                _ => return Err(("value", "must be a number".into())),
            }
        }
    };
    if matches!(test, Test::Compare(..)) && matches!(subject, Subject::Field(_)) {
        return Err(("op", "numeric comparisons apply to data fields only".into()));
    }
    // Values of closed vocabularies must exist.
    if let Subject::Field(field @ (MatchField::Type | MatchField::Severity)) = subject {
        let known = |v: &str| match field {
            MatchField::Type => v.parse::<ExceptionKind>().is_ok(),
            _ => v.parse::<Severity>().is_ok(),
        };
        let values: Vec<&String> = match &test {
            Test::Equals(v) => vec![v],
            Test::OneOf(vs) => vs.iter().collect(),
            _ => vec![],
        };
        if let Some(bad) = values.into_iter().find(|v| !known(v)) {
            let what = if field == MatchField::Type { "an exception type of the contract" } else { "a severity" };
            return Err(("value", format!("`{bad}` is not {what}")));
        }
    }
    Ok(Condition { subject, test })
}

/// Why a rule's conditions can never all hold, if they cannot.
fn contradiction(conditions: &[Condition]) -> Option<String> {
    let mut subjects: Vec<&Subject> = Vec::new();
    for c in conditions {
        if !subjects.contains(&&c.subject) {
            subjects.push(&c.subject);
        }
    }
    for subject in subjects {
        let tests: Vec<&Test> = conditions.iter().filter(|c| &c.subject == subject).map(|c| &c.test).collect();
        let name = match subject {
            Subject::Field(f) => f.as_str().to_owned(),
            Subject::Data(p) => format!("data:{p}"),
        };
        // Values allowed by equals / one of, and by the prefixes.
        let mut allowed: Option<BTreeSet<&String>> = None;
        for t in &tests {
            let set: BTreeSet<&String> = match t {
                Test::Equals(v) => [v].into_iter().collect(),
                Test::OneOf(vs) => vs.iter().collect(),
                _ => continue,
            };
            allowed = Some(match allowed {
                None => set,
                Some(a) => a.intersection(&set).copied().collect(),
            });
        }
        let prefixes: Vec<&String> =
            tests.iter().filter_map(|t| if let Test::Prefix(p) = t { Some(p) } else { None }).collect();
        if let Some(allowed) = &allowed {
            let fits = allowed.iter().any(|v| prefixes.iter().all(|p| v.starts_with(p.as_str())));
            if !fits {
                return Some(format!("no value of {name} satisfies all its conditions"));
            }
        }
        for (a, b) in prefixes.iter().zip(prefixes.iter().skip(1)) {
            if !a.starts_with(b.as_str()) && !b.starts_with(a.as_str()) {
                return Some(format!("{name} cannot start with both `{a}` and `{b}`"));
            }
        }
        let (mut lo, mut hi) = ((f64::NEG_INFINITY, true), (f64::INFINITY, true));
        for t in &tests {
            if let Test::Compare(op, n) = t {
                match op {
                    Operator::Gt if *n >= lo.0 => lo = (*n, false),
                    Operator::Ge if *n > lo.0 => lo = (*n, true),
                    Operator::Lt if *n <= hi.0 => hi = (*n, false),
                    Operator::Le if *n < hi.0 => hi = (*n, true),
                    _ => {}
                }
            }
        }
        if lo.0 > hi.0 || (lo.0 == hi.0 && !(lo.1 && hi.1)) {
            return Some(format!("no number satisfies every comparison of {name}"));
        }
    }
    None
}

impl Condition {
    /// `None` when the condition holds; otherwise why not.
    fn fails(&self, facts: &RoutingFacts<'_>) -> Option<String> {
        let (name, value): (String, Option<Fact>) = match &self.subject {
            Subject::Field(f) => (
                f.as_str().to_owned(),
                match f {
                    MatchField::Type => Some(Fact::Text(facts.kind.as_str().to_owned())),
                    MatchField::Source => Some(Fact::Text(facts.source.to_owned())),
                    MatchField::Site => facts.site.map(|s| Fact::Text(s.to_owned())),
                    MatchField::Supplier => facts.supplier.clone().map(Fact::Text),
                    MatchField::Severity => Some(Fact::Text(facts.effective_severity().as_str().to_owned())),
                },
            ),
            Subject::Data(pointer) => (
                format!("data:{pointer}"),
                facts.data.pointer(pointer).and_then(|v| match v {
                    Value::String(s) => Some(Fact::Text(s.clone())),
                    Value::Number(n) => n.as_f64().map(Fact::Number),
                    Value::Bool(b) => Some(Fact::Text(b.to_string())),
                    _ => None,
                }),
            ),
        };
        let Some(value) = value else {
            return Some(format!("{name} is missing"));
        };
        let holds = match (&self.test, &value) {
            (Test::Equals(want), v) => v.equals(want),
            (Test::OneOf(wants), v) => wants.iter().any(|w| v.equals(w)),
            (Test::Prefix(p), Fact::Text(t)) => t.starts_with(p.as_str()),
            (Test::Prefix(p), Fact::Number(n)) => n.to_string().starts_with(p.as_str()),
            (Test::Compare(op, want), v) => match v.number() {
                Some(n) => match op {
                    Operator::Lt => n < *want,
                    Operator::Le => n <= *want,
                    Operator::Gt => n > *want,
                    Operator::Ge => n >= *want,
                    _ => false,
                },
                None => return Some(format!("{name} is not a number")),
            },
        };
        if holds {
            None
        } else {
            let wanted = match &self.test {
                Test::Equals(w) => format!("not {w}"),
                Test::OneOf(ws) => format!("none of {}", ws.join(", ")),
                Test::Prefix(p) => format!("does not start with {p}"),
                Test::Compare(op, n) => format!("not {} {n}", op_symbol(*op)),
            };
            Some(format!("{name} is {} ({wanted})", value.display()))
        }
    }
}

fn op_symbol(op: Operator) -> &'static str {
    match op {
        Operator::Lt => "<",
        Operator::Le => "<=",
        Operator::Gt => ">",
        Operator::Ge => ">=",
        _ => "=",
    }
}

/// A value an exception has for a condition's subject.
enum Fact {
    Text(String),
    Number(f64),
}

impl Fact {
    fn number(&self) -> Option<f64> {
        match self {
            Fact::Number(n) => Some(*n),
            Fact::Text(t) => t.trim().parse().ok(),
        }
    }

    fn equals(&self, want: &str) -> bool {
        match self {
            Fact::Text(t) => t == want,
            Fact::Number(n) => want.trim().parse::<f64>().is_ok_and(|w| w == *n),
        }
    }

    fn display(&self) -> String {
        match self {
            Fact::Text(t) => t.clone(),
            Fact::Number(n) => n.to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
