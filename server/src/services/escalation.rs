//! The escalation sweep: once per exception and level, when its SLA is at
//! risk, when it is breached, or when nobody acknowledged it in time, it
//! tells the people its queue's policy names and, on a breach, may raise its
//! severity or move it to another queue. Each step is written with its audit
//! record (a system action on the exception's timeline) in one transaction
//! that also renews the sweep's lease, so two instances never both fire.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use crossdock::accounts::Role;
use crossdock::audit::{Actor, AuditAction, AuditEntry, Entity, SystemAgent};
use crossdock::channel::{Notice, NoticeSubject, Recipient, message};
use crossdock::config::Configuration;
use crossdock::escalation::{EscalationLevel, raised};
use crossdock::lifecycle::Reason;
use crossdock::queue::QueueKey;
use crossdock::triage::{Change, Doer};
use crossdock::{ExceptionId, Severity};
use serde_json::json;

use super::Services;
use super::sla::{self, Clocked};
use crate::store::channels::{Channel, NewDelivery};
use crate::store::escalation::{CandidateRow, Place};
use crate::store::exceptions::NO_DUE;
use crate::store::notifications::NewNotification;
use crate::store::{self, Tx};

/// The sweep's name in the lease table.
const SWEEP: &str = "escalation";
/// Candidates read per transaction.
const SLICE: u32 = 500;
/// How long the sweep holds its lease past each write.
const LEASE_SECONDS: i64 = 60;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EscalationReport {
    pub at_risk: usize,
    pub breached: usize,
    pub unacknowledged: usize,
    pub notifications: usize,
    /// Messages queued for notification channels.
    pub outward: usize,
}

/// The people a sweep may tell, read once per sweep.
struct People {
    /// Enabled people by user name: their id, and whether they are staff
    /// (who reach only their member queues).
    ids: HashMap<String, (i64, bool)>,
    /// Staff members of each queue.
    members: HashMap<String, Vec<(i64, String)>>,
    supervisors: Vec<(i64, String)>,
    /// Display names by user id.
    display: HashMap<i64, String>,
    /// The levels each person sends outward (bits), by user id.
    outward: HashMap<i64, i64>,
}

impl People {
    async fn load(pool: &store::Pool) -> anyhow::Result<Self> {
        let users = store::users::list(pool).await?;
        let memberships = store::users::all_memberships(pool).await?;
        let enabled: Vec<_> = users.into_iter().filter(|u| u.disabled_at.is_none()).collect();
        let mut members: HashMap<String, Vec<(i64, String)>> = HashMap::new();
        for (user, queue) in memberships {
            if let Some(u) = enabled.iter().find(|u| u.id == user && u.role == Role::Staff) {
                members.entry(queue.to_string()).or_default().push((u.id.0, u.username.to_string()));
            }
        }
        let of_role = |role| enabled.iter().filter(move |u| u.role == role).map(|u| (u.id.0, u.username.to_string()));
        let mut supervisors: Vec<_> = of_role(Role::Supervisor).collect();
        if supervisors.is_empty() {
            supervisors = of_role(Role::Admin).collect();
        }
        let ids = enabled.iter().map(|u| (u.username.to_string(), (u.id.0, u.role == Role::Staff))).collect();
        let display = enabled.iter().map(|u| (u.id.0, u.display_name.clone())).collect();
        let outward = store::channels::outward_levels(pool).await?;
        Ok(Self { ids, members, supervisors, display, outward })
    }

    /// Whoever holds an exception: its assignee, else its queue's members,
    /// else the supervisors.
    fn owners(&self, row: &CandidateRow) -> Vec<(i64, String)> {
        let members = self.members.get(&row.queue).filter(|m| !m.is_empty());
        if let Some(name) = &row.assignee
            && let Some((id, staff)) = self.ids.get(name)
        {
            // A clerk moved off the queue no longer reaches it: the queue is told.
            let reaches = !staff || members.is_some_and(|m| m.iter().any(|(m, _)| m == id));
            if reaches {
                return vec![(*id, name.clone())];
            }
        }
        members.cloned().unwrap_or_else(|| self.supervisors.clone())
    }
}

/// What the steps of one slice write, in one statement per table at the
/// end of the slice's transaction.
#[derive(Default)]
struct Written {
    notes: Vec<NewNotification>,
    outward: Vec<NewDelivery>,
    audit: Vec<AuditEntry>,
}

/// One sweep: its lease, its instant, and what it reads once.
struct Run<'a> {
    token: &'a str,
    started: std::time::Instant,
    now: DateTime<Utc>,
    config: &'a Configuration,
    people: &'a People,
    /// The channels that carry notifications outward.
    channels: &'a [Channel],
}

impl Services {
    /// Sweeps once, as of `now`: `None` when another instance holds the
    /// sweep. The background worker calls this every few seconds; tests
    /// drive it with their own clock.
    #[tracing::instrument(skip_all, err)]
    pub async fn sweep_escalations(&self, now: DateTime<Utc>) -> anyhow::Result<Option<EscalationReport>> {
        let token = store::leases::Lease::new(now, Duration::seconds(LEASE_SECONDS))?.token;
        let until = now + Duration::seconds(LEASE_SECONDS);
        if !store::escalation::claim_sweep(&self.pool, SWEEP, &token, now, until).await? {
            return Ok(None);
        }
        let mut report = EscalationReport::default();
        let outcome = self.escalate_all(&token, now, &mut report).await;
        store::escalation::release_sweep(&self.pool, SWEEP, &token).await?;
        outcome.map(|()| Some(report))
    }

    async fn escalate_all(&self, token: &str, now: DateTime<Utc>, report: &mut EscalationReport) -> anyhow::Result<()> {
        let config = self.configuration();
        let people = People::load(&self.pool).await?;
        let channels = store::channels::channels(&self.pool).await?;
        let run = Run {
            token,
            started: std::time::Instant::now(),
            now,
            config: &config,
            people: &people,
            channels: &channels,
        };
        // Breaches first: an exception past both is told once, as breached.
        self.pass(&run, EscalationLevel::Breached, None, report).await?;
        self.pass(&run, EscalationLevel::AtRisk, None, report).await?;
        for key in config.queues.keys() {
            if let Some(minutes) = config.escalations.for_queue(key.as_str()).unacknowledged_minutes {
                self.pass(&run, EscalationLevel::Unacknowledged, Some((key.as_str(), minutes)), report).await?;
            }
        }
        Ok(())
    }

    /// Fires one level on every exception it is due on, a slice per transaction.
    async fn pass(
        &self,
        run: &Run<'_>,
        level: EscalationLevel,
        unacknowledged: Option<(&str, u32)>,
        report: &mut EscalationReport,
    ) -> anyhow::Result<()> {
        let Run { token, now, config, .. } = *run;
        let mut place: Place = (i64::MIN, i64::MIN);
        loop {
            let rows = match (level, unacknowledged) {
                (EscalationLevel::AtRisk, _) => store::escalation::at_risk(&self.pool, now, place, SLICE).await?,
                (EscalationLevel::Breached, _) => store::escalation::breached(&self.pool, now, place, SLICE).await?,
                (EscalationLevel::Unacknowledged, Some((queue, minutes))) => {
                    // Business minutes never outrun wall minutes: nothing
                    // newer can be due.
                    let opened_by = now - Duration::minutes(i64::from(minutes));
                    store::escalation::unacknowledged(&self.pool, queue, opened_by, place, SLICE).await?
                }
                (EscalationLevel::Unacknowledged, None) => return Ok(()),
            };
            let Some(last) = rows.last() else { return Ok(()) };
            place = match level {
                EscalationLevel::AtRisk => (last.sla_risk_at.unwrap_or(NO_DUE), last.id),
                EscalationLevel::Breached => (last.sla_due_at.unwrap_or(NO_DUE), last.id),
                EscalationLevel::Unacknowledged => (last.created_at, last.id),
            };
            let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
            // Held for a while past this slice, however long the sweep has run.
            let ran = Duration::from_std(run.started.elapsed()).unwrap_or_default();
            let until = now + ran + Duration::seconds(LEASE_SECONDS);
            if !store::escalation::hold_sweep(&mut tx, SWEEP, token, until).await? {
                anyhow::bail!("another instance took the escalation sweep over");
            }
            let due: Vec<&CandidateRow> = rows
                .iter()
                .filter(|row| match level {
                    // Paused: not at risk while it waits; looked at again later.
                    EscalationLevel::AtRisk => row.sla_frozen.is_none(),
                    EscalationLevel::Breached => true,
                    EscalationLevel::Unacknowledged => unacknowledged.is_some_and(|(_, minutes)| {
                        let calendar =
                            QueueKey::parse(&row.queue).ok().and_then(|k| config.queue(&k)).map(|q| &q.calendar);
                        match (calendar, row.created()) {
                            (Some(cal), Ok(opened)) => cal.minutes_between(opened, now) >= i64::from(minutes),
                            _ => false,
                        }
                    }),
                })
                .collect();
            let fired = store::escalation::fire(&mut tx, &due, level, now).await?;
            let mut written = Written::default();
            for row in due.into_iter().filter(|r| fired.contains(&r.id)) {
                let policy = config.escalations.for_queue(&row.queue);
                // Past its target too: the breach is what people hear of.
                let superseded = level == EscalationLevel::AtRisk && row.breached_at(now);
                if policy.acts_at(level) && !superseded {
                    self.escalate(&mut tx, run, row, level, &mut written, report).await?;
                }
            }
            store::notifications::insert(&mut tx, &written.notes, now).await?;
            store::channels::enqueue(&mut tx, &written.outward, now).await?;
            store::audit::append(&mut tx, &written.audit).await?;
            tx.commit().await.context("Failed to commit escalations")?;
            if rows.len() < SLICE as usize {
                return Ok(());
            }
            store::let_writers_in().await;
        }
    }

    /// Takes one step on one exception: a raised severity and a move at
    /// once; the notifications, outward messages and the audit record naming
    /// what was done into `written`.
    async fn escalate(
        &self,
        tx: &mut Tx<'_>,
        run: &Run<'_>,
        row: &CandidateRow,
        level: EscalationLevel,
        written: &mut Written,
        report: &mut EscalationReport,
    ) -> anyhow::Result<()> {
        let Run { now, people, config, .. } = *run;
        let policy = config.escalations.for_queue(&row.queue);
        let id = ExceptionId::new(row.id);
        let mut told = match level {
            EscalationLevel::AtRisk => people.owners(row),
            EscalationLevel::Breached if policy.notify_breached => people.supervisors.clone(),
            EscalationLevel::Breached => Vec::new(),
            EscalationLevel::Unacknowledged => {
                let mut both = people.owners(row);
                both.extend(people.supervisors.iter().cloned());
                both
            }
        };
        told.sort();
        told.dedup();
        let summary: String = row.summary.chars().take(120).collect();
        let queue = QueueKey::parse(&row.queue)
            .ok()
            .and_then(|k| config.queue(&k))
            .map_or(row.queue.as_str(), |q| q.spec.name.as_str());
        let title = format!("{id} {} in {queue}: {summary}", level.label().to_lowercase());
        let notes: Vec<NewNotification> = told
            .iter()
            .map(|(user_id, _)| NewNotification {
                user_id: *user_id,
                exception_id: row.id,
                kind: level,
                title: title.clone(),
            })
            .collect();
        report.notifications += notes.len();
        metrics::counter!(crate::metrics::NOTIFICATIONS, "channel" => "console", "outcome" => "delivered")
            .increment(notes.len() as u64);
        written.notes.extend(notes);

        let mut done = Vec::new();
        if !told.is_empty() {
            let names: Vec<&str> = told.iter().map(|(_, n)| n.as_str()).collect();
            done.push(format!("notified {}", names.join(", ")));
        }
        let mut severity = None;
        let mut severity_now: Severity = row.severity()?;
        if level == EscalationLevel::Breached && policy.raise_severity {
            let from = severity_now;
            let to = raised(from);
            if to != from {
                self.raise_severity(tx, row, to, now).await?;
                done.push(format!("severity raised from {} to {}", from.as_str(), to.as_str()));
                severity = Some(json!({"from": from, "to": to}));
                severity_now = to;
            }
        }
        let move_to = policy.move_to.clone().filter(|_| level == EscalationLevel::Breached);
        if let Some(to) = &move_to {
            done.push(format!("moved to {to}"));
        }
        if let Some(to) = &move_to {
            let why = Reason::parse(&format!("Escalated: {} SLA breached", row.queue))
                .map_err(|e| anyhow::anyhow!("an escalation reason is invalid: {e:?}"))?;
            let change = Change::Assign { assignee: None, queue: Some(to.clone()), reason: why };
            self.system_change(tx, id, &change, Doer::System(SystemAgent::Escalation), now).await?;
        }
        let outward = self.outward(run, row, level, severity_now, &title, &told);
        report.outward += outward.len();
        if !outward.is_empty() {
            done.push(format!("{} outward message(s) queued", outward.len()));
        }
        written.outward.extend(outward);
        let reason = format!(
            "{}: {}",
            level.label(),
            if done.is_empty() { "nothing to do".to_owned() } else { done.join("; ") }
        );
        let entry = AuditEntry::new(
            now,
            Actor::System(SystemAgent::Escalation),
            AuditAction::ExceptionEscalated,
            Entity::Exception,
            row.id.to_string(),
        )
        .after(json!({
            "level": level,
            "clock": row.clock(),
            "notified": told.iter().map(|(_, n)| n).collect::<Vec<_>>(),
            "severity": severity,
            "moved_to": move_to,
        }))
        .reason(reason);
        written.audit.push(entry);
        match level {
            EscalationLevel::AtRisk => report.at_risk += 1,
            EscalationLevel::Breached => report.breached += 1,
            EscalationLevel::Unacknowledged => report.unacknowledged += 1,
        }
        Ok(())
    }

    /// The messages for the channels that carry this step, each for the
    /// people told who send this level outward.
    fn outward(
        &self,
        run: &Run<'_>,
        row: &CandidateRow,
        level: EscalationLevel,
        severity: Severity,
        title: &str,
        told: &[(i64, String)],
    ) -> Vec<NewDelivery> {
        let people = run.people;
        let recipients: Vec<Recipient> = told
            .iter()
            .filter(|(id, _)| people.outward.get(id).is_some_and(|bits| bits & level.bit() != 0))
            .map(|(id, name)| Recipient {
                username: name.clone(),
                display_name: people.display.get(id).cloned().unwrap_or_else(|| name.clone()),
            })
            .collect();
        if recipients.is_empty() {
            return Vec::new();
        }
        let notice = Notice {
            level: Some(level),
            title: title.to_owned(),
            subject: Some(NoticeSubject {
                id: row.id,
                queue: row.queue.clone(),
                severity,
                summary: row.summary.clone(),
                url: self.exception_url(row.id),
            }),
            recipients,
            at: run.now,
        };
        run.channels
            .iter()
            .filter(|c| c.spec.carries(level, &row.queue))
            .map(|c| NewDelivery {
                channel_id: c.id,
                exception_id: Some(row.id),
                level: Some(level),
                body: message(c.spec.kind, &notice).to_string(),
                recipients: notice.recipients.len() as i64,
            })
            .collect()
    }

    async fn raise_severity(
        &self,
        tx: &mut Tx<'_>,
        row: &CandidateRow,
        to: Severity,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let config = self.configuration();
        let of = Clocked {
            id: ExceptionId::new(row.id),
            severity: to,
            queue: &row.queue,
            policy_version: row.sla_policy_version,
        };
        let clocks = sla::clocks(tx, &config, of, now).await?;
        store::escalation::set_severity(tx, row.id, to, &clocks, now).await
    }
}
