//! Configuration: loading, caching and saving versions.

use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use crossdock::Severity;
use crossdock::calendar::{CalendarSpec, HoursSpec};
use crossdock::config::{Configuration, ConfigurationSpec, QueueSpec, SiteSpec};
use crossdock::routing::RuleSetSpec;
use crossdock::sla::{SlaPolicySpec, SlaTargets};

use crossdock::audit::{Actor, AuditAction, AuditEntry, SystemAgent};
use crossdock::config::ConfigKind;

use super::{ServiceError, Services};
use crate::auth::{Configurer, Viewer};
use crate::store::config::ConfigVersion;
use crate::store::{self, Pool};

/// A set of configuration documents to save together.
#[derive(Debug, Clone, Default)]
pub struct ConfigDocs {
    pub sites: Vec<SiteSpec>,
    pub policies: Vec<SlaPolicySpec>,
    pub queues: Vec<QueueSpec>,
    pub routing: Option<RuleSetSpec>,
    pub expectations: Option<crossdock::lineage::ExpectationSet>,
    pub escalations: Option<crossdock::escalation::EscalationSet>,
    pub kpi_targets: Option<crossdock::kpi::KpiTargets>,
}

/// The configuration an empty database starts with: one catch-all queue,
/// around the clock, under a standard policy.
fn bootstrap_docs() -> ConfigDocs {
    let t = |a, r| SlaTargets { acknowledge_minutes: a, resolve_minutes: r };
    ConfigDocs {
        sites: Vec::new(),
        policies: vec![SlaPolicySpec {
            name: "Standard".into(),
            targets: [
                (Severity::Low, t(480, 2400)),
                (Severity::Medium, t(240, 960)),
                (Severity::High, t(60, 480)),
                (Severity::Critical, t(15, 120)),
            ]
            .into_iter()
            .collect(),
            at_risk_percent: 75,
        }],
        queues: vec![QueueSpec {
            key: "triage".into(),
            name: "Triage".into(),
            team: "Integration support".into(),
            sla_policy: "Standard".into(),
            site: None,
            calendar: Some(CalendarSpec {
                time_zone: "UTC".into(),
                hours: HoursSpec::AlwaysOpen,
                holidays: Vec::new(),
            }),
        }],
        routing: Some(RuleSetSpec { rules: Vec::new(), fallback_queue: "triage".into() }),
        expectations: None,
        escalations: None,
        kpi_targets: None,
    }
}

fn spec_of(versions: Vec<ConfigVersion>) -> anyhow::Result<ConfigurationSpec> {
    let mut spec = ConfigurationSpec::default();
    for v in versions {
        let context = || format!("stored {} `{}` version {} is unreadable", v.kind, v.key, v.version);
        let Some(doc) = v.spec.clone() else { continue };
        match v.kind {
            ConfigKind::Site => spec.sites.push(serde_json::from_value(doc).with_context(context)?),
            ConfigKind::SlaPolicy => spec.policies.push((v.id, serde_json::from_value(doc).with_context(context)?)),
            ConfigKind::Queue => spec.queues.push(serde_json::from_value(doc).with_context(context)?),
            ConfigKind::Routing => {
                spec.routing = Some(serde_json::from_value(doc).with_context(context)?);
                spec.routing_version = Some(v.id);
            }
            ConfigKind::Expectations => spec.expectations = Some(serde_json::from_value(doc).with_context(context)?),
            ConfigKind::Escalations => spec.escalations = Some(serde_json::from_value(doc).with_context(context)?),
            ConfigKind::KpiTargets => spec.kpi_targets = Some(serde_json::from_value(doc).with_context(context)?),
        }
    }
    Ok(spec)
}

fn build(spec: ConfigurationSpec) -> Result<Configuration, Vec<crossdock::FieldProblem>> {
    Configuration::build(spec)
}

/// Loads the current configuration, first writing the bootstrap one into a
/// database that has none; with the newest version it was built from.
pub(super) async fn bootstrap_and_load(pool: &Pool) -> anyhow::Result<(Configuration, i64)> {
    let mut tx = crate::store::begin(pool).await.context("Failed to begin a transaction")?;
    if store::config::count(&mut *tx).await? == 0 {
        save_docs(&mut tx, &bootstrap_docs(), &Actor::System(SystemAgent::Bootstrap)).await?;
    }
    let (rows, newest) = (store::config::current(&mut *tx).await?, store::config::newest_id(&mut *tx).await?);
    tx.commit().await.context("Failed to commit the bootstrap configuration")?;
    let configuration = checked(rows)?;
    Ok((configuration, newest))
}

/// The configuration the stored documents make, which they were checked to
/// make when saved.
fn checked(rows: Vec<store::config::ConfigVersion>) -> anyhow::Result<Configuration> {
    build(spec_of(rows)?).map_err(|problems| {
        anyhow::anyhow!(
            "the stored configuration is invalid: {}",
            problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        )
    })
}

async fn save_docs(tx: &mut store::Tx<'_>, docs: &ConfigDocs, actor: &Actor) -> anyhow::Result<()> {
    let now = Utc::now();
    let mut saved = Vec::new();
    for site in &docs.sites {
        saved.push((ConfigKind::Site, site.code.clone(), serde_json::to_value(site)?));
    }
    for policy in &docs.policies {
        saved.push((ConfigKind::SlaPolicy, policy.name.trim().to_owned(), serde_json::to_value(policy)?));
    }
    for queue in &docs.queues {
        saved.push((ConfigKind::Queue, queue.key.clone(), serde_json::to_value(queue)?));
    }
    if let Some(routing) = &docs.routing {
        saved.push((ConfigKind::Routing, "rules".to_owned(), serde_json::to_value(routing)?));
    }
    if let Some(expectations) = &docs.expectations {
        saved.push((ConfigKind::Expectations, "expectations".to_owned(), serde_json::to_value(expectations)?));
    }
    if let Some(escalations) = &docs.escalations {
        saved.push((ConfigKind::Escalations, "escalations".to_owned(), serde_json::to_value(escalations)?));
    }
    if let Some(targets) = &docs.kpi_targets {
        saved.push((ConfigKind::KpiTargets, "kpi_targets".to_owned(), serde_json::to_value(targets)?));
    }
    for (kind, key, spec) in saved {
        let before = store::config::latest(tx, kind, &key)
            .await?
            .and_then(|v| v.spec.map(|spec| serde_json::json!({"version_id": v.id, "spec": spec})));
        let id = store::config::save(tx, kind, &key, Some(&spec), actor, now).await?;
        let mut entry = AuditEntry::new(now, actor.clone(), AuditAction::ConfigSaved, kind.entity(), key)
            .after(serde_json::json!({"version_id": id, "spec": spec}));
        entry.before = before;
        store::audit::append(tx, &[entry]).await?;
    }
    Ok(())
}

impl Services {
    /// The configuration in force.
    pub fn configuration(&self) -> Arc<Configuration> {
        self.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Saves documents as new versions, only if the configuration they make
    /// together with the rest is valid; nothing is saved otherwise.
    #[tracing::instrument(skip_all)]
    pub async fn save_configuration(&self, by: &impl Configurer, docs: &ConfigDocs) -> Result<(), ServiceError> {
        let _one_at_a_time = self.config_saves.lock().await;
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        save_docs(&mut tx, docs, &by.actor()).await?;
        let rows = store::config::current(&mut *tx).await?;
        let configuration = build(spec_of(rows)?).map_err(ServiceError::Problems)?;
        let newest = store::config::newest_id(&mut *tx).await?;
        tx.commit().await.context("Failed to commit the configuration")?;
        self.put_configuration(configuration, newest);
        Ok(())
    }

    fn put_configuration(&self, configuration: Configuration, version: i64) {
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(configuration);
        self.config_version.store(version, std::sync::atomic::Ordering::Release);
    }

    /// Takes up a configuration saved through another instance on the same
    /// database (each instance asks every second); whether there was one.
    pub async fn follow_configuration(&self) -> anyhow::Result<bool> {
        let seen = self.config_version.load(std::sync::atomic::Ordering::Acquire);
        if store::config::newest_id(&self.pool).await? <= seen {
            return Ok(false);
        }
        let _one_at_a_time = self.config_saves.lock().await;
        // Both read in one transaction: the documents are those of the id.
        let mut tx = crate::store::begin_read(&self.pool).await.context("Failed to begin a transaction")?;
        let (rows, newest) = (store::config::current(&mut *tx).await?, store::config::newest_id(&mut *tx).await?);
        tx.commit().await.context("Failed to end a read")?;
        if newest <= self.config_version.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(false);
        }
        self.put_configuration(checked(rows)?, newest);
        tracing::info!(version = newest, "took up a configuration saved elsewhere");
        Ok(true)
    }
}

/// A site as the console shows it: code, name, and the time zone its times
/// are shown in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSummary {
    pub code: String,
    pub name: String,
    pub time_zone: String,
}

/// A queue as admins see it.
#[derive(Debug, Clone)]
pub struct QueueSummary {
    pub spec: QueueSpec,
    pub time_zone: String,
    pub weekly_minutes: u32,
}

impl Services {
    /// The queues, and the policies and sites a queue may use.
    pub fn list_queues(&self, _viewer: &Viewer) -> (Vec<QueueSummary>, Vec<String>, Vec<SiteSummary>) {
        let config = self.configuration();
        let queues = config
            .queues
            .values()
            .map(|q| QueueSummary {
                spec: q.spec.clone(),
                time_zone: q.calendar.time_zone().name().to_owned(),
                weekly_minutes: q.calendar.weekly_minutes(),
            })
            .collect();
        let policies = config.policies.keys().cloned().collect();
        let sites = config
            .sites
            .values()
            .map(|(s, calendar)| SiteSummary {
                code: s.code.clone(),
                name: s.name.clone(),
                time_zone: calendar.time_zone().name().to_owned(),
            })
            .collect();
        (queues, policies, sites)
    }

    /// Creates or changes a queue. An empty `site` keeps the queue's own
    /// calendar. Problems name the form's fields.
    #[tracing::instrument(skip_all, fields(queue = %key))]
    pub async fn save_queue(
        &self,
        by: &impl Configurer,
        key: &str,
        name: &str,
        team: &str,
        sla_policy: &str,
        site: &str,
    ) -> Result<(), ServiceError> {
        let config = self.configuration();
        let existing = crossdock::queue::QueueKey::parse(key).ok().and_then(|k| config.queues.get(&k).cloned());
        let site = site.trim();
        let (site, calendar) = match (site.is_empty(), &existing) {
            (false, _) => (Some(site.to_owned()), None),
            (true, Some(q)) if q.spec.calendar.is_some() => (None, q.spec.calendar.clone()),
            (true, _) => return Err(ServiceError::invalid("site", "choose the site whose calendar the queue follows")),
        };
        let spec = QueueSpec {
            key: key.trim().to_owned(),
            name: name.trim().to_owned(),
            team: team.trim().to_owned(),
            sla_policy: sla_policy.trim().to_owned(),
            site,
            calendar,
        };
        let docs = ConfigDocs { queues: vec![spec], ..ConfigDocs::default() };
        self.save_configuration(by, &docs).await.map_err(|err| match err {
            // Name the form's fields: `/queues/<key>/name` is `name`.
            ServiceError::Problems(problems) => ServiceError::Problems(
                problems
                    .into_iter()
                    .map(|p| crossdock::FieldProblem {
                        pointer: p.pointer.rsplit('/').next().unwrap_or_default().to_owned(),
                        message: p.message,
                    })
                    .collect(),
            ),
            other => other,
        })
    }
}

impl Services {
    pub fn sites(&self, _by: &impl Configurer) -> Vec<SiteSpec> {
        self.configuration().sites.values().map(|(s, _)| s.clone()).collect()
    }

    pub fn policies(&self, _by: &impl Configurer) -> Vec<SlaPolicySpec> {
        self.configuration().policies.values().map(|p| p.spec.clone()).collect()
    }

    pub fn routing_spec(&self, _by: &impl Configurer) -> RuleSetSpec {
        self.configuration().routing_spec.clone()
    }

    pub fn expectations(&self, _by: &impl Configurer) -> crossdock::lineage::ExpectationSet {
        self.configuration().expectations.clone()
    }

    async fn save_one(&self, by: &impl Configurer, docs: ConfigDocs, prefix: &str) -> Result<(), ServiceError> {
        self.save_configuration(by, &docs).await.map_err(|err| match err {
            // Point into the document the admin edited.
            ServiceError::Problems(problems) => ServiceError::Problems(
                problems
                    .into_iter()
                    .map(|p| match p.pointer.strip_prefix(prefix) {
                        Some(rest) => crossdock::FieldProblem { pointer: rest.to_owned(), message: p.message },
                        None => p,
                    })
                    .collect(),
            ),
            other => other,
        })
    }

    /// Creates or changes a site and its calendar.
    #[tracing::instrument(skip_all, fields(site = %site.code))]
    pub async fn save_site(&self, by: &impl Configurer, site: SiteSpec) -> Result<(), ServiceError> {
        let prefix = format!("/sites/{}", site.code);
        self.save_one(by, ConfigDocs { sites: vec![site], ..ConfigDocs::default() }, &prefix).await
    }

    /// Creates or changes an SLA policy. Open exceptions keep the version they
    /// started with.
    #[tracing::instrument(skip_all, fields(policy = %policy.name))]
    pub async fn save_policy(&self, by: &impl Configurer, policy: SlaPolicySpec) -> Result<(), ServiceError> {
        let prefix = format!("/sla_policies/{}", policy.name);
        self.save_one(by, ConfigDocs { policies: vec![policy], ..ConfigDocs::default() }, &prefix).await
    }

    /// Changes what milestones are expected after others. Expectations
    /// already started keep their due time; milestones seen afterwards
    /// follow the new set.
    #[tracing::instrument(skip_all)]
    pub async fn save_expectations(
        &self,
        by: &impl Configurer,
        expectations: crossdock::lineage::ExpectationSet,
    ) -> Result<(), ServiceError> {
        let docs = ConfigDocs { expectations: Some(expectations), ..ConfigDocs::default() };
        self.save_one(by, docs, "/expectations").await
    }

    /// The escalation policies in force.
    pub fn escalations(&self, _by: &impl Configurer) -> crossdock::escalation::EscalationSet {
        self.configuration().escalations.clone()
    }

    /// Changes what queues escalate to. Steps that fired stay fired; the
    /// next sweep follows the new policies.
    #[tracing::instrument(skip_all)]
    pub async fn save_escalations(
        &self,
        by: &impl Configurer,
        escalations: crossdock::escalation::EscalationSet,
    ) -> Result<(), ServiceError> {
        let docs = ConfigDocs { escalations: Some(escalations), ..ConfigDocs::default() };
        self.save_one(by, docs, "/escalations").await
    }

    /// Changes the KPIs' targets.
    #[tracing::instrument(skip_all)]
    pub async fn save_kpi_targets(
        &self,
        by: &impl Configurer,
        targets: crossdock::kpi::KpiTargets,
    ) -> Result<(), ServiceError> {
        let docs = ConfigDocs { kpi_targets: Some(targets), ..ConfigDocs::default() };
        self.save_one(by, docs, "/kpi_targets").await
    }

    /// The versions of a kind of document (one key, or all), newest first.
    pub async fn config_history(
        &self,
        _by: &impl Configurer,
        kind: &str,
        key: Option<&str>,
    ) -> Result<Vec<ConfigVersion>, ServiceError> {
        let kind: ConfigKind =
            kind.parse().map_err(|_| ServiceError::invalid("kind", "no such kind of configuration"))?;
        Ok(store::config::history(&self.pool, kind, key).await?)
    }

    /// Makes an earlier version current again, as a new version (validated
    /// with the rest of the configuration like any change).
    #[tracing::instrument(skip_all, fields(version = id))]
    pub async fn restore_config(&self, by: &impl Configurer, id: i64) -> Result<(), ServiceError> {
        let version = store::config::by_id(&self.pool, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("version {id}")))?;
        let spec = version.spec.ok_or_else(|| ServiceError::invalid("version", "this version removed the document"))?;
        let bad =
            |e: serde_json::Error| ServiceError::Internal(anyhow::anyhow!("stored version {id} is unreadable: {e}"));
        let mut docs = ConfigDocs::default();
        match version.kind {
            ConfigKind::Site => docs.sites.push(serde_json::from_value(spec).map_err(bad)?),
            ConfigKind::SlaPolicy => docs.policies.push(serde_json::from_value(spec).map_err(bad)?),
            ConfigKind::Queue => docs.queues.push(serde_json::from_value(spec).map_err(bad)?),
            ConfigKind::Routing => docs.routing = Some(serde_json::from_value(spec).map_err(bad)?),
            ConfigKind::Expectations => docs.expectations = Some(serde_json::from_value(spec).map_err(bad)?),
            ConfigKind::Escalations => docs.escalations = Some(serde_json::from_value(spec).map_err(bad)?),
            ConfigKind::KpiTargets => docs.kpi_targets = Some(serde_json::from_value(spec).map_err(bad)?),
        }
        self.save_configuration(by, &docs).await
    }
}
