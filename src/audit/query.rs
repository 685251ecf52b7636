//! What the auditor console asks of the trail: a filter over records, read
//! from and written to the page's address, and a record's before and after
//! as a readable list of changed fields.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::chain::{ChainHash, SealedRecord};
use super::{Actor, AuditAction, AuditEntry, AuditRecord, Entity};
use crate::{FieldProblem, named_enum};

/// The most records one page of the auditor console shows.
pub const AUDIT_PAGE: u32 = 100;

/// The longest text a filter field takes.
const MAX_TEXT: usize = 200;

/// Which way a page of the trail reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditOrder {
    #[default]
    NewestFirst,
    OldestFirst,
}

/// A filter over the audit trail; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Who acted: a person (`user:pat`, or just `pat`), a source
    /// (`source:wms`), the system (`system`, or one part of it).
    pub actor: Option<ActorFilter>,
    pub action: Option<AuditAction>,
    pub entity: Option<Entity>,
    /// The id of the thing, with `entity`.
    pub entity_id: Option<String>,
    /// Records about one exception.
    pub exception: Option<i64>,
    /// Records about exceptions now in this queue, at this site, or carrying
    /// this business key.
    pub queue: Option<String>,
    pub site: Option<String>,
    pub key: Option<String>,
    /// Days, inclusive, in UTC.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Words in the reason.
    pub words: Option<String>,
    pub order: AuditOrder,
}

/// Who acted, as the filter takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActorFilter {
    /// One actor exactly.
    Exactly(Actor),
    /// Any part of the system.
    System,
}

impl std::fmt::Display for ActorFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActorFilter::Exactly(actor) => actor.fmt(f),
            ActorFilter::System => f.write_str("system"),
        }
    }
}

impl std::str::FromStr for ActorFilter {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s == "system" {
            return Ok(ActorFilter::System);
        }
        if let Ok(actor) = s.parse::<Actor>() {
            return Ok(ActorFilter::Exactly(actor));
        }
        // A bare user name names a person.
        let name = s.to_ascii_lowercase();
        let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if plain { Ok(ActorFilter::Exactly(Actor::User(name))) } else { Err(()) }
    }
}

impl AuditFilter {
    /// Reads a page's query string; each field that does not read is named.
    pub fn parse_query(query: &str) -> Result<Self, Vec<FieldProblem>> {
        let mut filter = AuditFilter::default();
        let mut problems = Vec::new();
        let mut problem = |field: &str, detail: &str| {
            problems.push(FieldProblem { pointer: field.to_owned(), message: detail.to_owned() });
        };
        for (name, value) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if value.len() > MAX_TEXT {
                problem(&name, "is too long");
                continue;
            }
            if !crate::text::is_one_line(value) {
                problem(&name, "must not contain control characters");
                continue;
            }
            let text = Some(value.to_owned());
            match name.as_ref() {
                "actor" => match value.parse() {
                    Ok(a) => filter.actor = Some(a),
                    Err(()) => problem("actor", "names no person, source or part of the system"),
                },
                "action" => match value.parse() {
                    Ok(a) => filter.action = Some(a),
                    Err(_) => problem("action", "is not an action of the trail"),
                },
                "entity" => match value.parse() {
                    Ok(e) => filter.entity = Some(e),
                    Err(_) => problem("entity", "is not a kind of thing the trail records"),
                },
                "entity_id" => filter.entity_id = text,
                "exception" => match value.parse::<i64>() {
                    Ok(id) if id > 0 => filter.exception = Some(id),
                    _ => problem("exception", "is not an exception number"),
                },
                "queue" => filter.queue = text,
                "site" => filter.site = text,
                "key" => filter.key = text,
                "from" | "to" => match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
                    Ok(day) if name == "from" => filter.from = Some(day),
                    Ok(day) => filter.to = Some(day),
                    Err(_) => problem(&name, "is not a date (YYYY-MM-DD)"),
                },
                "q" => filter.words = text,
                "order" => match value {
                    "newest" => filter.order = AuditOrder::NewestFirst,
                    "oldest" => filter.order = AuditOrder::OldestFirst,
                    _ => problem("order", "is newest or oldest"),
                },
                _ => {}
            }
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            problem("to", "is before the first day");
        }
        if filter.entity_id.is_some() && filter.entity.is_none() {
            problem("entity_id", "needs the kind of thing it names");
        }
        if problems.is_empty() { Ok(filter) } else { Err(problems) }
    }

    /// The query string that reads back into this filter.
    pub fn to_query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        let mut put = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                q.append_pair(name, &v);
            }
        };
        put("actor", self.actor.as_ref().map(ToString::to_string));
        put("action", self.action.map(|a| a.as_str().to_owned()));
        put("entity", self.entity.map(|e| e.as_str().to_owned()));
        put("entity_id", self.entity_id.clone());
        put("exception", self.exception.map(|e| e.to_string()));
        put("queue", self.queue.clone());
        put("site", self.site.clone());
        put("key", self.key.clone());
        put("from", self.from.map(|d| d.to_string()));
        put("to", self.to.map(|d| d.to_string()));
        put("q", self.words.clone());
        put("order", (self.order == AuditOrder::OldestFirst).then(|| "oldest".to_owned()));
        q.finish()
    }

    /// The instants the days cover: from the first day's start to the end
    /// of the last.
    pub fn span(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        (self.from.and_then(start), self.to.and_then(|d| d.succ_opt()).and_then(start))
    }

    /// Records about one exception, oldest first: its whole history.
    pub fn history_of(exception: i64) -> Self {
        AuditFilter { exception: Some(exception), order: AuditOrder::OldestFirst, ..Self::default() }
    }

    /// The events recorded in one business transaction, oldest first.
    pub fn events_of_transaction(transaction: i64) -> Self {
        AuditFilter {
            entity: Some(Entity::Transaction),
            entity_id: Some(transaction.to_string()),
            order: AuditOrder::OldestFirst,
            ..Self::default()
        }
    }

    /// What one person did between two days.
    pub fn activity_of(username: &str, from: NaiveDate, to: NaiveDate) -> Self {
        AuditFilter {
            actor: Some(ActorFilter::Exactly(Actor::User(username.to_owned()))),
            from: Some(from),
            to: Some(to),
            ..Self::default()
        }
    }
}

/// One field a record's before and after differ in, by its path
/// (`status`, `due.resolve`, `prefixes[1]`), as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDiff {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// What differs between `before` and `after`, field by field, in path order;
/// a field only one side has shows with nothing on the other.
pub fn diff(before: Option<&serde_json::Value>, after: Option<&serde_json::Value>) -> Vec<FieldDiff> {
    let mut left = std::collections::BTreeMap::new();
    let mut right = std::collections::BTreeMap::new();
    if let Some(v) = before {
        flatten(String::new(), v, &mut left);
    }
    if let Some(v) = after {
        flatten(String::new(), v, &mut right);
    }
    let paths: std::collections::BTreeSet<&String> = left.keys().chain(right.keys()).collect();
    paths
        .into_iter()
        .filter(|p| left.get(*p) != right.get(*p))
        .map(|p| FieldDiff { path: p.clone(), before: left.get(p).cloned(), after: right.get(p).cloned() })
        .collect()
}

fn flatten(path: String, value: &serde_json::Value, out: &mut std::collections::BTreeMap<String, String>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let next = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                flatten(next, v, out);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                flatten(format!("{path}[{i}]"), v, out);
            }
        }
        serde_json::Value::String(s) => {
            out.insert(path, s.clone());
        }
        other => {
            out.insert(path, other.to_string());
        }
    }
}

/// One record as the auditor console shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLine {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: AuditAction,
    pub entity: Entity,
    pub entity_id: String,
    pub reason: Option<String>,
    /// What it changed, field by field.
    pub changes: Vec<FieldDiff>,
    pub hash: ChainHash,
}

impl AuditLine {
    /// The exception it is about, if any.
    pub fn exception(&self) -> Option<i64> {
        (self.entity == Entity::Exception).then(|| self.entity_id.parse().ok()).flatten()
    }

    /// The business transaction the record is about, if it is about one.
    pub fn transaction(&self) -> Option<i64> {
        (self.entity == Entity::Transaction).then(|| self.entity_id.parse().ok()).flatten()
    }

    /// The person who acted, if a person did.
    pub fn person(&self) -> Option<&str> {
        match &self.actor {
            Actor::User(name) => Some(name),
            _ => None,
        }
    }
}

/// A page of the auditor console, and where the next one starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub lines: Vec<AuditLine>,
    pub next: Option<i64>,
}

/// Where the chain stands, as its last check found it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainState {
    /// The chain's last record now.
    pub head_seq: i64,
    /// When the last check ended; none before the first.
    pub checked_at: Option<DateTime<Utc>>,
    pub checked: i64,
    /// The last record it verified, and that record's hash.
    pub verified_seq: Option<i64>,
    pub verified_hash: Option<String>,
    /// Where it found the chain broken.
    pub broken: Option<String>,
    /// The admin who asked for it; none for the background check.
    pub requested_by: Option<String>,
}

named_enum! {
    /// The shapes an export of the trail comes in.
    pub enum ExportFormat ("export format") {
        Csv => "csv",
        JsonLines => "jsonl",
    }
}

/// One exported record: a flat row holding all the canonical form needs,
/// so that its hash can be checked outside (docs/audit.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRow {
    pub seq: i64,
    /// RFC 3339, UTC, in milliseconds.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<&SealedRecord> for ExportRow {
    fn from(r: &SealedRecord) -> Self {
        let e = &r.record.entry;
        ExportRow {
            seq: r.record.id,
            at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            actor: e.actor.to_string(),
            action: e.action.as_str().to_owned(),
            entity: e.entity.as_str().to_owned(),
            entity_id: e.entity_id.clone(),
            before: e.before.clone(),
            after: e.after.clone(),
            reason: e.reason.clone(),
            prev_hash: r.prev.to_string(),
            hash: r.hash.to_string(),
        }
    }
}

impl TryFrom<ExportRow> for SealedRecord {
    type Error = String;

    fn try_from(row: ExportRow) -> Result<Self, Self::Error> {
        let seq = row.seq;
        let bad = |what: &str| format!("row {seq}: {what} does not read");
        let entry = AuditEntry {
            at: DateTime::parse_from_rfc3339(&row.at).map_err(|_| bad("at"))?.with_timezone(&Utc),
            actor: row.actor.parse().map_err(|_| bad("actor"))?,
            action: row.action.parse().map_err(|_| bad("action"))?,
            entity: row.entity.parse().map_err(|_| bad("entity"))?,
            entity_id: row.entity_id,
            before: row.before,
            after: row.after,
            reason: row.reason,
        };
        Ok(SealedRecord {
            record: AuditRecord { id: seq, entry },
            prev: row.prev_hash.parse().map_err(|_| bad("prev_hash"))?,
            hash: row.hash.parse().map_err(|_| bad("hash"))?,
        })
    }
}

#[cfg(test)]
mod tests;
