//! Writing ingested events in bulk: one statement per table and chunk of
//! rows rather than per event, so a group commit of hundreds of events costs a
//! handful of statements.

use std::collections::{HashMap, HashSet};

use crate::store::sql::Builder;
use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::{ExceptionId, RefKind};

use super::events::EventRecord;
use super::exceptions::NewException;
use super::{Tx, to_millis};

/// Rows per multi-row statement.
const CHUNK: usize = 100;

/// One event ready to be written: the log entry and, for an exception event,
/// the exception to file (or count an occurrence on).
#[derive(Debug, Clone)]
pub struct IngestItem {
    pub event: EventRecord,
    /// The exception to file; its `event_id` is set once the event is logged.
    pub exception: Option<NewException>,
    /// Who sent it.
    pub actor: crossdock::audit::Actor,
    /// Why its exception went where it went, for the audit trail.
    pub routed: Option<Routed>,
}

/// The routing decision for an exception event, as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Routed {
    /// The rule that matched, by position (from 1) and name; `None` when
    /// no rule matched and the fallback queue took it.
    pub rule: Option<(usize, String)>,
    /// The stored version of the rules that decided.
    pub routing_version: Option<i64>,
    pub queue: String,
    pub severity: crossdock::Severity,
    pub assignee: Option<String>,
    /// The SLA policy that times it, and its stored version.
    pub sla_policy: Option<String>,
    pub sla_policy_version: Option<i64>,
}

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Committed as `event` in the log, placed in `transaction`; the
    /// exception it opened (`opened`) or was counted on.
    Accepted { event: i64, transaction: Option<i64>, exception: Option<ExceptionId>, opened: bool },
    /// `(source, id)` was already logged; nothing changed.
    Duplicate,
}

fn millis(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(to_millis)
}

/// Writes the items in order, in the caller's transaction.
pub async fn write(tx: &mut Tx<'_>, items: &[&IngestItem]) -> anyhow::Result<Vec<WriteOutcome>> {
    // 1. Which events are new: the first copy in the batch of each
    // (source, id) not logged before. The writer holds the write lock, so
    // nothing logs one in between.
    let mut stored: HashSet<(String, String)> = HashSet::new();
    for chunk in items.chunks(CHUNK) {
        let mut q = Builder::new("WITH v (source, event_id) AS (");
        q.push_values(chunk, |mut b, item| {
            b.push_bind(&item.event.source).push_bind(&item.event.event_id);
        });
        q.push(") SELECT e.source, e.event_id FROM v JOIN events e ON e.source = v.source AND e.event_id = v.event_id");
        let rows: Vec<(String, String)> =
            q.build_query_as().fetch_all(&mut **tx).await.context("Failed to look for logged events")?;
        stored.extend(rows);
    }
    let mut claimed: HashSet<(&str, &str)> = HashSet::new();
    let fresh: Vec<&IngestItem> = items
        .iter()
        .copied()
        .filter(|item| {
            let key = (item.event.source.as_str(), item.event.event_id.as_str());
            !stored.contains(&(key.0.to_owned(), key.1.to_owned())) && claimed.insert(key)
        })
        .collect();

    // 2. Their business transactions, with the key index, so that each is
    // logged with its transaction in one write.
    let placing: Vec<(usize, &crossdock::lineage::Facts)> =
        fresh.iter().enumerate().map(|(i, item)| (i, &item.event.lineage)).collect();
    let now = items.first().map_or_else(Utc::now, |i| i.event.received_at);
    let placed = super::lineage::place_events(tx, &placing, now).await?;

    // 3. The business KPIs the milestones move.
    let counted: Vec<super::kpi::Counted> = fresh
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let (signal, zone) = item.event.kpi.clone()?;
            Some(super::kpi::Counted { signal, zone, transaction: placed.get(&i).copied() })
        })
        .collect();
    if !counted.is_empty() {
        super::kpi::count(tx, &counted).await?;
    }

    // 4. The event log (a conflict on (source, id) would still be a duplicate).
    let mut logged: HashMap<(&str, &str), i64> = HashMap::new();
    let mut transaction_of: HashMap<i64, i64> = HashMap::new();
    for (n, chunk) in fresh.chunks(CHUNK).enumerate() {
        let mut q = Builder::new(
            "INSERT INTO events (source_id, source, event_id, type, time, received_at, subject, correlation_id, site, body, \
             transaction_id) ",
        );
        q.push_values(chunk.iter().enumerate(), |mut b, (i, item)| {
            let e = &item.event;
            b.push_bind(e.source_id)
                .push_bind(&e.source)
                .push_bind(&e.event_id)
                .push_bind(e.event_type)
                .push_bind(to_millis(e.time))
                .push_bind(to_millis(e.received_at))
                .push_bind(&e.subject)
                .push_bind(&e.correlation_id)
                .push_bind(&e.site)
                .push_bind(&e.body)
                .push_bind(placed.get(&(n * CHUNK + i)).copied());
        });
        q.push(" ON CONFLICT (source, event_id) DO NOTHING RETURNING id, source, event_id");
        let rows: Vec<(i64, String, String)> =
            q.build_query_as().fetch_all(&mut **tx).await.context("Failed to log events")?;
        let by_key: HashMap<(String, String), i64> = rows.into_iter().map(|(id, s, e)| ((s, e), id)).collect();
        for (i, item) in chunk.iter().enumerate() {
            let key = (item.event.source.clone(), item.event.event_id.clone());
            if let Some(id) = by_key.get(&key) {
                logged.insert((&item.event.source, &item.event.event_id), *id);
                if let Some(txn) = placed.get(&(n * CHUNK + i)) {
                    transaction_of.insert(*id, *txn);
                }
            }
        }
    }
    // The first copy of an event in the batch is the one logged.
    let mut claimed: HashSet<(&str, &str)> = HashSet::new();
    let event_ids: Vec<Option<i64>> = items
        .iter()
        .map(|item| {
            let key = (item.event.source.as_str(), item.event.event_id.as_str());
            logged.get(&key).copied().filter(|_| claimed.insert(key))
        })
        .collect();

    let mut refs: Vec<(i64, &str, &str)> = Vec::new();
    for (item, id) in items.iter().zip(&event_ids) {
        if let Some(id) = id {
            refs.extend(item.event.refs.iter().map(|(k, v)| (*id, k.as_str(), v.as_str())));
        }
    }
    for chunk in refs.chunks(CHUNK * 3) {
        let mut q = Builder::new("INSERT INTO event_refs (event_id, kind, value) ");
        q.push_values(chunk, |mut b, (id, kind, value)| {
            b.push_bind(*id).push_bind(*kind).push_bind(*value);
        });
        q.build().execute(&mut **tx).await.context("Failed to log business keys")?;
    }

    // 2. Exceptions: a repeat of an open problem is an occurrence of it.
    let filing: Vec<(usize, i64, &NewException)> = items
        .iter()
        .zip(&event_ids)
        .enumerate()
        .filter_map(|(i, (item, id))| Some((i, (*id)?, item.exception.as_ref()?)))
        .collect();
    let mut open: HashMap<String, i64> = HashMap::new();
    let fingerprints: Vec<&str> =
        filing.iter().map(|(_, _, e)| e.fingerprint.as_str()).collect::<HashSet<_>>().into_iter().collect();
    for chunk in fingerprints.chunks(CHUNK * 3) {
        let mut q = Builder::new(
            "SELECT fingerprint, id FROM exceptions WHERE status NOT IN ('resolved', 'dismissed') AND fingerprint IN (",
        );
        let mut list = q.separated(", ");
        for fp in chunk {
            list.push_bind(*fp);
        }
        q.push(")");
        let rows: Vec<(String, i64)> =
            q.build_query_as().fetch_all(&mut **tx).await.context("Failed to look up open exceptions")?;
        open.extend(rows);
    }
    // New exceptions: the first event of each problem not already open.
    let mut opening: Vec<(usize, NewException)> = Vec::new();
    let mut opened_here: HashSet<&str> = HashSet::new();
    for (i, event_id, plan) in &filing {
        if !open.contains_key(&plan.fingerprint) && opened_here.insert(&plan.fingerprint) {
            let transaction_id = transaction_of.get(event_id).copied();
            opening.push((*i, NewException { event_id: *event_id, transaction_id, ..(*plan).clone() }));
        }
    }
    for chunk in opening.chunks(CHUNK) {
        let mut q = Builder::new(
            "INSERT INTO exceptions (kind, status, severity, site, queue, summary, refs, payload, created_at, updated_at, \
             fingerprint, occurrences, last_seen_at, event_id, source, correlation_id, assignee, sla_policy_version, \
             ack_due_at, ack_risk_at, ack_frozen, resolve_due_at, resolve_risk_at, resolve_frozen, \
             sla_due_at, sla_risk_at, sla_frozen, sla_sort, severity_order, transaction_id, supplier) ",
        );
        let mut encoded = Vec::with_capacity(chunk.len());
        for (_, e) in chunk {
            encoded.push(serde_json::to_string(&e.refs).context("Failed to encode business keys")?);
        }
        q.push_values(chunk.iter().zip(&encoded), |mut b, ((_, e), refs)| {
            let at = to_millis(e.opened_at);
            let (ack, resolve) = (e.sla.ack.unwrap_or_default(), e.sla.resolve.unwrap_or_default());
            b.push_bind(e.kind.as_str())
                .push_bind("new")
                .push_bind(e.severity.as_str())
                .push_bind(&e.site)
                .push_bind(&e.queue)
                .push_bind(&e.summary)
                .push_bind(refs)
                .push_bind(&e.payload)
                .push_bind(at)
                .push_bind(at)
                .push_bind(&e.fingerprint)
                .push_bind(1i64)
                .push_bind(at)
                .push_bind(e.event_id)
                .push_bind(&e.source)
                .push_bind(&e.correlation_id)
                .push_bind(&e.assignee)
                .push_bind(e.sla_policy_version)
                .push_bind(millis(ack.due_at))
                .push_bind(millis(ack.at_risk_at))
                .push_bind(ack.frozen.map(|s| s.as_str()))
                .push_bind(millis(resolve.due_at))
                .push_bind(millis(resolve.at_risk_at))
                .push_bind(resolve.frozen.map(|s| s.as_str()));
            let effective = e.sla.stored();
            b.push_bind(effective.due_at)
                .push_bind(effective.risk_at)
                .push_bind(effective.frozen)
                .push_bind(effective.sort)
                .push_bind(crossdock::triage::severity_order(e.severity))
                .push_bind(e.transaction_id)
                .push_bind(e.refs.get(RefKind::Supplier));
        });
        q.push(" RETURNING fingerprint, id");
        let rows: Vec<(String, i64)> =
            q.build_query_as().fetch_all(&mut **tx).await.context("Failed to file exceptions")?;
        open.extend(rows);
    }

    // Occurrences: every other event of a problem, counted at once.
    let mut repeats: HashMap<i64, (i64, i64)> = HashMap::new();
    let new_at: HashSet<usize> = opening.iter().map(|(i, _)| *i).collect();
    let mut exception_of: HashMap<usize, (ExceptionId, bool)> = HashMap::new();
    for (i, _, plan) in &filing {
        let id = *open.get(&plan.fingerprint).context("an exception was neither found nor filed")?;
        let opened = new_at.contains(i);
        if !opened {
            let seen = to_millis(items[*i].event.time.max(items[*i].event.received_at));
            let entry = repeats.entry(id).or_insert((0, seen));
            entry.0 += 1;
            entry.1 = entry.1.max(seen);
        }
        exception_of.insert(*i, (ExceptionId::new(id), opened));
    }
    let repeats: Vec<(i64, (i64, i64))> = repeats.into_iter().collect();
    let max = super::Backend::of_tx(tx).pick("MAX", "GREATEST");
    for chunk in repeats.chunks(CHUNK) {
        let mut q = Builder::new("WITH r (id, n, seen) AS (");
        q.push_values(chunk, |mut b, (id, (n, seen))| {
            b.push_bind(*id).push_bind(*n).push_bind(*seen);
        });
        q.push(format!(
            ") UPDATE exceptions SET occurrences = occurrences + r.n, \
             last_seen_at = {max}(COALESCE(last_seen_at, 0), r.seen) FROM r WHERE exceptions.id = r.id"
        ));
        q.build().execute(&mut **tx).await.context("Failed to count occurrences")?;
    }

    // 3. For each new exception: its first status and business keys.
    let new_ids: Vec<(i64, &IngestItem, &NewException)> =
        opening.iter().filter_map(|(i, e)| Some((*open.get(&e.fingerprint)?, items[*i], e))).collect();
    for chunk in new_ids.chunks(CHUNK) {
        let mut q = Builder::new("INSERT INTO exception_status_history (exception_id, at, status, actor) ");
        q.push_values(chunk, |mut b, (id, item, e)| {
            b.push_bind(*id).push_bind(to_millis(e.opened_at)).push_bind("new").push_bind(item.actor.to_string());
        });
        q.build().execute(&mut **tx).await.context("Failed to record first statuses")?;

        let keys: Vec<(i64, &str, &str)> =
            chunk.iter().flat_map(|(id, _, e)| e.refs.iter().map(move |(k, v)| (*id, k.as_str(), v))).collect();
        for keys in keys.chunks(CHUNK * 3) {
            let mut q = Builder::new("INSERT INTO exception_refs (exception_id, kind, value) ");
            q.push_values(keys, |mut b, (id, kind, value)| {
                b.push_bind(*id).push_bind(*kind).push_bind(*value);
            });
            q.build().execute(&mut **tx).await.context("Failed to store business keys")?;
        }
    }

    // 4. Link each event to its exception.
    let links: Vec<(i64, i64)> =
        filing.iter().filter_map(|(i, event_id, _)| Some((*event_id, exception_of.get(i)?.0.get()))).collect();
    for chunk in links.chunks(CHUNK) {
        let mut q = Builder::new("WITH l (event, exception) AS (");
        q.push_values(chunk, |mut b, (event, exception)| {
            b.push_bind(*event).push_bind(*exception);
        });
        q.push(") UPDATE events SET exception_id = l.exception FROM l WHERE events.id = l.event");
        q.build().execute(&mut **tx).await.context("Failed to link events to exceptions")?;
    }

    Ok(event_ids
        .iter()
        .enumerate()
        .map(|(i, id)| match id {
            None => WriteOutcome::Duplicate,
            Some(event) => {
                let (exception, opened) = exception_of.get(&i).map_or((None, false), |(x, o)| (Some(*x), *o));
                let transaction = transaction_of.get(event).copied();
                WriteOutcome::Accepted { event: *event, transaction, exception, opened }
            }
        })
        .collect())
}
