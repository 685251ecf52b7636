//! The configuration admins shape: sites with their calendars, SLA policies,
//! queues and the routing rule set, validated together.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audit::Entity;
use crate::calendar::{BusinessCalendar, CalendarSpec};
use crate::queue::QueueKey;
use crate::routing::{RuleSet, RuleSetSpec};
use crate::sla::{SlaPolicy, SlaPolicySpec};
use crate::{FieldProblem, named_enum};

named_enum! {
    /// The kinds of configuration document, each kept in versions.
    pub enum ConfigKind ("kind of configuration") {
        Site => "site",
        SlaPolicy => "sla_policy",
        Queue => "queue",
        Routing => "routing",
        /// Which milestone is expected after which, and within how long.
        Expectations => "expectations",
        /// What each queue escalates to.
        Escalations => "escalations",
        /// The targets of the business KPIs.
        KpiTargets => "kpi_targets",
    }
}

impl ConfigKind {
    /// What the audit trail calls a document of this kind.
    pub const fn entity(self) -> Entity {
        match self {
            ConfigKind::Site => Entity::Site,
            ConfigKind::SlaPolicy => Entity::SlaPolicy,
            ConfigKind::Queue => Entity::Queue,
            ConfigKind::Routing => Entity::Routing,
            ConfigKind::Expectations => Entity::Expectations,
            ConfigKind::Escalations => Entity::Escalations,
            ConfigKind::KpiTargets => Entity::KpiTargets,
        }
    }
}

/// A site (warehouse, DC) and its business calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSpec {
    /// Location code, e.g. `DC-DAL`.
    pub code: String,
    pub name: String,
    pub calendar: CalendarSpec,
}

/// A queue as admins write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSpec {
    pub key: String,
    pub name: String,
    /// The team that owns the queue.
    pub team: String,
    /// Name of the SLA policy.
    pub sla_policy: String,
    /// Use this site's calendar...
    #[serde(default)]
    pub site: Option<String>,
    /// ...or this calendar of the queue's own.
    #[serde(default)]
    pub calendar: Option<CalendarSpec>,
}

/// A validated queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub key: QueueKey,
    pub spec: QueueSpec,
    pub calendar: BusinessCalendar,
}

/// A validated SLA policy and the stored version it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyVersion {
    /// The policy as its admin wrote it.
    pub spec: SlaPolicySpec,
    /// Id of the stored version, recorded on exceptions that start under it.
    pub version_id: i64,
    pub policy: SlaPolicy,
}

/// Everything routing and SLA clocks need, consistent as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    pub sites: BTreeMap<String, (SiteSpec, BusinessCalendar)>,
    pub policies: BTreeMap<String, PolicyVersion>,
    pub queues: BTreeMap<QueueKey, Queue>,
    pub routing: RuleSet,
    pub routing_spec: RuleSetSpec,
    /// The stored version of the routing rules in force (`None`: none saved).
    pub routing_version: Option<i64>,
    /// Milestones expected after others.
    pub expectations: crate::lineage::ExpectationSet,
    pub escalations: crate::escalation::EscalationSet,
    pub kpi_targets: crate::kpi::KpiTargets,
}

/// The pieces of a configuration, each with the id of its stored version.
#[derive(Debug, Clone, Default)]
pub struct ConfigurationSpec {
    pub sites: Vec<SiteSpec>,
    pub policies: Vec<(i64, SlaPolicySpec)>,
    pub queues: Vec<QueueSpec>,
    pub routing: Option<RuleSetSpec>,
    /// The id of the stored version `routing` comes from.
    pub routing_version: Option<i64>,
    /// None: the standard expectations.
    pub expectations: Option<crate::lineage::ExpectationSet>,
    /// None: every queue follows the default escalation.
    pub escalations: Option<crate::escalation::EscalationSet>,
    /// None: the standard targets.
    pub kpi_targets: Option<crate::kpi::KpiTargets>,
}

fn prefixed(prefix: &str, problems: Vec<FieldProblem>) -> impl Iterator<Item = FieldProblem> + '_ {
    problems.into_iter().map(move |p| FieldProblem { pointer: format!("{prefix}{}", p.pointer), message: p.message })
}

impl Configuration {
    /// The time zone of a site's calendar; UTC for a site not configured.
    pub fn site_zone(&self, code: &str) -> chrono_tz::Tz {
        self.sites.get(code).map_or(chrono_tz::UTC, |(_, calendar)| calendar.time_zone())
    }
}

impl Configuration {
    /// Validates every piece and every reference between them. Pointers name
    /// the piece: `/sites/DC-DAL/calendar/...`, `/queues/receiving/...`,
    /// `/sla_policies/Standard/...`, `/routing/rules/3/...`.
    pub fn build(spec: ConfigurationSpec) -> Result<Self, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut sites = BTreeMap::new();
        for site in spec.sites {
            let at = format!("/sites/{}", site.code);
            if site.code.trim().is_empty() || site.code.len() > 64 || !crate::text::is_one_line(&site.code) {
                problems.push(FieldProblem {
                    pointer: format!("{at}/code"),
                    message: "a site code of 1 to 64 characters, without control characters, is required".into(),
                });
            }
            if site.name.trim().is_empty() || !crate::text::is_one_line(&site.name) {
                problems.push(FieldProblem {
                    pointer: format!("{at}/name"),
                    message: "a name, without control characters, is required".into(),
                });
            }
            match BusinessCalendar::from_spec(&site.calendar) {
                Ok(cal) => {
                    sites.insert(site.code.clone(), (site, cal));
                }
                Err(p) => problems.extend(prefixed(&format!("{at}/calendar"), p)),
            }
        }
        let mut policies = BTreeMap::new();
        for (version_id, policy) in spec.policies {
            match SlaPolicy::from_spec(&policy) {
                Ok(p) => {
                    policies.insert(
                        policy.name.trim().to_owned(),
                        PolicyVersion { version_id, policy: p, spec: policy.clone() },
                    );
                }
                Err(p) => problems.extend(prefixed(&format!("/sla_policies/{}", policy.name), p)),
            }
        }
        let mut queues = BTreeMap::new();
        for q in spec.queues {
            let at = format!("/queues/{}", q.key);
            let key = match QueueKey::parse(&q.key) {
                Ok(k) => Some(k),
                Err(e) => {
                    problems.push(FieldProblem { pointer: format!("{at}/key"), message: e.to_string() });
                    None
                }
            };
            for (field, value) in [("name", &q.name), ("team", &q.team)] {
                if value.trim().is_empty() || value.chars().count() > 100 || !crate::text::is_one_line(value) {
                    problems.push(FieldProblem {
                        pointer: format!("{at}/{field}"),
                        message: "1 to 100 characters, without control characters, are required".into(),
                    });
                }
            }
            if !policies.contains_key(q.sla_policy.trim()) {
                problems.push(FieldProblem {
                    pointer: format!("{at}/sla_policy"),
                    message: format!("there is no SLA policy `{}`", q.sla_policy),
                });
            }
            let calendar = match (&q.calendar, &q.site) {
                (Some(own), _) => BusinessCalendar::from_spec(own)
                    .map_err(|p| problems.extend(prefixed(&format!("{at}/calendar"), p)))
                    .ok(),
                (None, Some(site)) => match sites.get(site) {
                    Some((_, cal)) => Some(cal.clone()),
                    None => {
                        problems.push(FieldProblem {
                            pointer: format!("{at}/site"),
                            message: format!("there is no site `{site}`"),
                        });
                        None
                    }
                },
                (None, None) => {
                    problems.push(FieldProblem {
                        pointer: format!("{at}/calendar"),
                        message: "a queue follows a site's calendar or has its own".into(),
                    });
                    None
                }
            };
            if let (Some(key), Some(calendar)) = (key, calendar) {
                if queues.contains_key(&key) {
                    problems.push(FieldProblem {
                        pointer: format!("{at}/key"),
                        message: "another queue has this key".into(),
                    });
                }
                queues.insert(key.clone(), Queue { key, spec: q, calendar });
            }
        }
        let routing_spec =
            spec.routing.unwrap_or_else(|| RuleSetSpec { rules: Vec::new(), fallback_queue: String::new() });
        let routing = RuleSet::from_spec(&routing_spec, |k| queues.contains_key(k))
            .map_err(|p| problems.extend(prefixed("/routing", p)))
            .ok();
        let expectations = spec.expectations.unwrap_or_else(crate::lineage::ExpectationSet::standard);
        problems.extend(prefixed("/expectations", expectations.problems()));
        let escalations = spec.escalations.unwrap_or_default();
        let queue_exists = |k: &str| QueueKey::parse(k).is_ok_and(|k| queues.contains_key(&k));
        problems.extend(prefixed("/escalations", escalations.problems(queue_exists)));
        let kpi_targets = spec.kpi_targets.unwrap_or_default();
        problems.extend(prefixed("/kpi_targets", kpi_targets.problems()));
        match routing {
            Some(routing) if problems.is_empty() => {
                let routing_version = spec.routing_version;
                Ok(Self {
                    sites,
                    policies,
                    queues,
                    routing,
                    routing_spec,
                    routing_version,
                    expectations,
                    escalations,
                    kpi_targets,
                })
            }
            _ => Err(problems),
        }
    }

    pub fn queue(&self, key: &QueueKey) -> Option<&Queue> {
        self.queues.get(key)
    }

    /// The policy a queue's exceptions start under.
    pub fn policy_of(&self, queue: &Queue) -> Option<&PolicyVersion> {
        self.policies.get(queue.spec.sla_policy.trim())
    }
}
