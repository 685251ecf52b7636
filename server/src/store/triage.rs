//! Queue views: filtered, sorted, keyset-paginated pages of exceptions, and
//! the counts beside them.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::sla::{SlaSnapshot, SlaState};
use crossdock::triage::{AssigneeFilter, Cursor, QueueCounts, QueueFilter, QueuePage, SortOrder};
use crossdock::{ExceptionId, ExceptionListItem, RefKind};
use sqlx::{QueryBuilder, Sqlite};

use super::exceptions::NO_DUE;
use super::{Pool, from_millis, to_millis};

const OPEN: &str = "('new', 'acknowledged', 'in_progress', 'waiting')";

/// Who is looking, for `assignee=me` and the queues in reach.
pub struct Viewer<'a> {
    pub username: &'a str,
    /// Queues in reach; `None` for every queue.
    pub queues: Option<&'a [String]>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    status: String,
    severity: String,
    site: String,
    queue: String,
    summary: String,
    refs: String,
    created_at: i64,
    updated_at: i64,
    assignee: Option<String>,
    occurrences: i64,
    version: i64,
    sla_due_at: Option<i64>,
    sla_risk_at: Option<i64>,
    sla_frozen: Option<String>,
    sla_sort: i64,
    severity_order: i64,
    replay_state: Option<String>,
}

impl Row {
    fn cursor(&self, sort: SortOrder) -> Cursor {
        let keys = match sort {
            SortOrder::SlaDue => [self.sla_sort, 0],
            SortOrder::Severity => [self.severity_order, self.sla_sort],
            SortOrder::Age => [self.created_at, 0],
        };
        Cursor { keys, id: self.id }
    }

    fn into_item(self) -> anyhow::Result<ExceptionListItem> {
        let time = |ms: Option<i64>| ms.map(from_millis).transpose();
        Ok(ExceptionListItem {
            id: ExceptionId::new(self.id),
            kind: self.kind.parse()?,
            status: self.status.parse()?,
            severity: self.severity.parse()?,
            site: self.site,
            queue: self.queue,
            summary: self.summary,
            refs: serde_json::from_str(&self.refs)
                .with_context(|| format!("stored business keys of exception {} are unreadable", self.id))?,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
            assignee: self.assignee,
            occurrences: self.occurrences,
            version: self.version,
            sla: SlaSnapshot {
                frozen: self.sla_frozen.as_deref().map(str::parse).transpose()?,
                due_at: time(self.sla_due_at)?,
                at_risk_at: time(self.sla_risk_at)?,
            },
            replay: self.replay_state.as_deref().map(str::parse).transpose()?,
        })
    }
}

/// Escapes the wildcards of LIKE so a search for `50%` means fifty percent.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn push_in<'a, T: 'a>(
    q: &mut QueryBuilder<'a, Sqlite>,
    column: &str,
    values: impl IntoIterator<Item = T>,
    bind: impl Fn(&mut QueryBuilder<'a, Sqlite>, T),
) {
    q.push(format!(" AND {column} IN ("));
    let mut first = true;
    for v in values {
        if !first {
            q.push(", ");
        }
        first = false;
        bind(q, v);
    }
    if first {
        q.push("NULL");
    }
    q.push(")");
}

/// The WHERE clause of a view (without keyset), after `WHERE 1 = 1`.
/// How a view's search text is matched.
pub enum TextMatch {
    /// It is a business key of some exception: match that key exactly.
    Key(String),
    /// Otherwise: words of the summary.
    Words(String),
}

/// Decides how to match a view's search text: a known business key is
/// matched through its index; anything else against the summaries.
async fn text_match(pool: &Pool, filter: &QueueFilter) -> anyhow::Result<Option<TextMatch>> {
    let Some(text) = filter.text.clone() else { return Ok(None) };
    let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM exception_refs WHERE value = ? LIMIT 1")
        .bind(&text)
        .fetch_optional(pool)
        .await
        .context("Failed to look up a business key")?;
    Ok(Some(if known.is_some() { TextMatch::Key(text) } else { TextMatch::Words(text) }))
}

fn push_filter<'a>(
    q: &mut QueryBuilder<'a, Sqlite>,
    viewer: &Viewer<'a>,
    filter: &'a QueueFilter,
    text: &'a Option<TextMatch>,
    now: i64,
) {
    if let Some(queues) = viewer.queues {
        push_in(q, "e.queue", queues.iter(), |q, v| {
            q.push_bind(v.as_str());
        });
    }
    if !filter.queues.is_empty() {
        push_in(q, "e.queue", filter.queues.iter(), |q, v| {
            q.push_bind(v.as_str());
        });
    }
    let statuses = filter.effective_statuses();
    if statuses.len() == 4 && statuses.iter().all(|s| s.is_open()) {
        q.push(format!(" AND e.status IN {OPEN}"));
    } else {
        push_in(q, "e.status", statuses, |q, v| {
            q.push_bind(v.as_str());
        });
    }
    if !filter.severities.is_empty() {
        push_in(q, "e.severity", filter.severities.iter(), |q, v| {
            q.push_bind(v.as_str());
        });
    }
    if !filter.kinds.is_empty() {
        push_in(q, "e.kind", filter.kinds.iter(), |q, v| {
            q.push_bind(v.as_str());
        });
    }
    if !filter.sites.is_empty() {
        push_in(q, "e.site", filter.sites.iter(), |q, v| {
            q.push_bind(v.as_str());
        });
    }
    if let Some(supplier) = &filter.supplier {
        // Driven by the business-key index: a supplier is a small share of all.
        q.push(" AND e.id IN (SELECT r.exception_id FROM exception_refs r WHERE r.value = ");
        q.push_bind(supplier.as_str());
        q.push(" AND r.kind = ");
        q.push_bind(RefKind::Supplier.as_str());
        q.push(")");
    }
    match &filter.assignee {
        AssigneeFilter::Anyone => {}
        AssigneeFilter::Me => {
            q.push(" AND e.assignee = ");
            q.push_bind(viewer.username);
        }
        AssigneeFilter::Unassigned => {
            q.push(" AND e.assignee IS NULL");
        }
        AssigneeFilter::Person(p) => {
            q.push(" AND e.assignee = ");
            q.push_bind(p.as_str());
        }
    }
    if !filter.sla.is_empty() {
        q.push(" AND (0");
        for state in &filter.sla {
            q.push(" OR ");
            match state {
                SlaState::OnTrack => {
                    q.push(format!("(e.sla_frozen IS NULL AND e.sla_due_at IS NOT NULL AND e.sla_risk_at > {now})"))
                }
                SlaState::AtRisk => {
                    q.push(format!("(e.sla_frozen IS NULL AND e.sla_risk_at <= {now} AND e.sla_due_at > {now})"))
                }
                SlaState::Breached => {
                    q.push(format!("((e.sla_frozen IS NULL AND e.sla_due_at <= {now}) OR e.sla_frozen = 'breached')"))
                }
                other => q.push(format!("e.sla_frozen = '{}'", other.as_str())),
            };
        }
        q.push(")");
    }
    match text {
        // A business key (PO, order, shipment...): through its index.
        Some(TextMatch::Key(key)) => {
            q.push(" AND e.id IN (SELECT r.exception_id FROM exception_refs r WHERE r.value = ");
            q.push_bind(key.as_str());
            q.push(")");
        }
        // Words of the summary.
        Some(TextMatch::Words(words)) => {
            q.push(" AND e.summary LIKE ");
            q.push_bind(format!("%{}%", escape_like(words)));
            q.push(" ESCAPE '\\'");
        }
        None => {}
    }
}

/// One page of a view: `limit` rows after `after`.
pub async fn page(
    pool: &Pool,
    viewer: &Viewer<'_>,
    filter: &QueueFilter,
    after: Option<Cursor>,
    limit: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<QueuePage> {
    let now = to_millis(now);
    let sort = filter.sort();
    let text = text_match(pool, filter).await?;
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT e.id, e.kind, e.status, e.severity, e.site, e.queue, e.summary, e.refs, e.created_at, e.updated_at, \
         e.assignee, e.occurrences, e.version, e.sla_due_at, e.sla_risk_at, e.sla_frozen, e.sla_sort, e.severity_order, e.replay_state \
         FROM exceptions e WHERE 1 = 1",
    );
    push_filter(&mut q, viewer, filter, &text, now);
    if let Some(c) = after {
        match sort {
            SortOrder::SlaDue => {
                q.push(" AND (e.sla_sort, e.id) > (");
                q.push_bind(c.keys[0]).push(", ").push_bind(c.id).push(")");
            }
            SortOrder::Severity => {
                q.push(" AND (e.severity_order, e.sla_sort, e.id) > (");
                q.push_bind(c.keys[0]).push(", ").push_bind(c.keys[1]).push(", ").push_bind(c.id).push(")");
            }
            SortOrder::Age => {
                q.push(" AND (e.created_at, e.id) > (");
                q.push_bind(c.keys[0]).push(", ").push_bind(c.id).push(")");
            }
        }
    }
    q.push(match sort {
        SortOrder::SlaDue => " ORDER BY e.sla_sort, e.id",
        SortOrder::Severity => " ORDER BY e.severity_order, e.sla_sort, e.id",
        SortOrder::Age => " ORDER BY e.created_at, e.id",
    });
    q.push(" LIMIT ").push_bind(i64::from(limit) + 1);
    let mut rows: Vec<Row> = q.build_query_as().fetch_all(pool).await.context("Failed to read a queue page")?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.cursor(sort))
    } else {
        None
    };
    let items = rows.into_iter().map(Row::into_item).collect::<anyhow::Result<_>>()?;
    Ok(QueuePage { items, next })
}

/// How many exceptions a view holds in all (for a bulk action's preview).
pub async fn count(pool: &Pool, viewer: &Viewer<'_>, filter: &QueueFilter, now: DateTime<Utc>) -> anyhow::Result<i64> {
    let text = text_match(pool, filter).await?;
    let mut q = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM exceptions e WHERE 1 = 1");
    push_filter(&mut q, viewer, filter, &text, to_millis(now));
    q.build_query_scalar().fetch_one(pool).await.context("Failed to count a view")
}

/// The ids a view holds, in its order (for a bulk action on the whole view).
pub async fn ids(
    pool: &Pool,
    viewer: &Viewer<'_>,
    filter: &QueueFilter,
    now: DateTime<Utc>,
    max: u32,
) -> anyhow::Result<Vec<i64>> {
    let text = text_match(pool, filter).await?;
    let mut q = QueryBuilder::<Sqlite>::new("SELECT e.id FROM exceptions e WHERE 1 = 1");
    push_filter(&mut q, viewer, filter, &text, to_millis(now));
    q.push(" ORDER BY e.id LIMIT ").push_bind(i64::from(max));
    q.build_query_scalar().fetch_all(pool).await.context("Failed to list a view")
}

/// Open exceptions in reach, per queue and per SLA state at `now`.
pub async fn counts(pool: &Pool, viewer: &Viewer<'_>, now: DateTime<Utc>) -> anyhow::Result<QueueCounts> {
    let now = to_millis(now);
    let open = QueueFilter::default();
    // SQLite: name the covering index; the planner may otherwise read the rows.
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT e.queue, COUNT(*) FROM exceptions e INDEXED BY exceptions_open_sla_counts WHERE 1 = 1",
    );
    push_filter(&mut q, viewer, &open, &None, now);
    q.push(" GROUP BY e.queue ORDER BY e.queue");
    let by_queue: Vec<(String, i64)> = q.build_query_as().fetch_all(pool).await.context("Failed to count per queue")?;
    // Read from the covering index only: sla_sort is the due instant of a
    // running clock, or the sentinel.
    let mut q = QueryBuilder::<Sqlite>::new(format!(
        "SELECT CASE \
           WHEN e.sla_frozen IS NOT NULL THEN e.sla_frozen \
           WHEN e.sla_sort >= {NO_DUE} THEN 'on_track' \
           WHEN e.sla_sort <= {now} THEN 'breached' \
           WHEN e.sla_risk_at <= {now} THEN 'at_risk' \
           ELSE 'on_track' END AS state, COUNT(*) FROM exceptions e INDEXED BY exceptions_open_sla_counts WHERE 1 = 1"
    ));
    push_filter(&mut q, viewer, &open, &None, now);
    q.push(" GROUP BY state");
    let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(pool).await.context("Failed to count per SLA state")?;
    let mut by_sla = Vec::new();
    for (state, n) in rows {
        by_sla.push((state.parse::<SlaState>().context("stored SLA state is invalid")?, n));
    }
    by_sla.sort();
    Ok(QueueCounts { by_queue, by_sla })
}

/// The parts of an exception an action reads and changes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExceptionState {
    pub id: i64,
    pub queue: String,
    pub status: String,
    pub severity: String,
    pub assignee: Option<String>,
    pub version: i64,
    pub sla_policy_version: Option<i64>,
}

pub async fn state(tx: &mut super::Tx<'_>, id: i64) -> anyhow::Result<Option<ExceptionState>> {
    sqlx::query_as(
        "SELECT id, queue, status, severity, assignee, version, sla_policy_version FROM exceptions WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to read an exception")
}

/// What an action makes of an exception.
#[derive(Clone, Copy)]
pub struct Change<'a> {
    pub status: &'a str,
    pub assignee: Option<&'a str>,
    pub queue: &'a str,
    pub sla: &'a super::exceptions::SlaColumns,
    pub at: DateTime<Utc>,
}

/// Writes a changed exception if it is still at `version`; `false` if not.
pub async fn update(tx: &mut super::Tx<'_>, id: i64, version: i64, change: &Change<'_>) -> anyhow::Result<bool> {
    let Change { status, assignee, queue, sla, at } = *change;
    let statement = format!(
        "UPDATE exceptions SET status = ?, assignee = ?, queue = ?, version = version + 1, updated_at = ?, {SET_SLA} \
         WHERE id = ? AND version = ?",
        SET_SLA = super::exceptions::SET_SLA
    );
    let query = sqlx::query(&statement).bind(status).bind(assignee).bind(queue).bind(to_millis(at));
    let done = super::exceptions::bind_sla(query, sla)
        .bind(id)
        .bind(version)
        .execute(&mut **tx)
        .await
        .context("Failed to update an exception")?;
    Ok(done.rows_affected() == 1)
}

pub async fn record_status(
    tx: &mut super::Tx<'_>,
    id: i64,
    status: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO exception_status_history (exception_id, at, status, actor) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(to_millis(at))
        .bind(status)
        .bind(actor)
        .execute(&mut **tx)
        .await
        .context("Failed to record a status")?;
    Ok(())
}

/// The newest audit record of an exception: who changed it last, and how.
pub async fn last_change<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    id: i64,
) -> anyhow::Result<Option<(String, String, i64)>> {
    sqlx::query_as(
        "SELECT actor, action, at FROM audit_log WHERE entity = 'exception' AND entity_id = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(id.to_string())
    .fetch_optional(db)
    .await
    .context("Failed to read the last change")
}

/// Every audit record of an exception, oldest first: its timeline.
pub async fn timeline(pool: &Pool, id: i64) -> anyhow::Result<Vec<super::audit::AuditRow>> {
    sqlx::query_as(
        "SELECT id, at, actor, action, entity, entity_id, before, after, reason FROM audit_log \
         WHERE entity = 'exception' AND entity_id = ? ORDER BY id",
    )
    .bind(id.to_string())
    .fetch_all(pool)
    .await
    .context("Failed to read a timeline")
}

/// Everything the detail page shows of an exception.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DetailRow {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub severity: String,
    pub site: String,
    pub queue: String,
    pub summary: String,
    pub refs: String,
    pub payload: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub assignee: Option<String>,
    pub occurrences: i64,
    pub version: i64,
    pub correlation_id: Option<String>,
    pub sla_policy_version: Option<i64>,
    pub ack_due_at: Option<i64>,
    pub ack_risk_at: Option<i64>,
    pub ack_frozen: Option<String>,
    pub resolve_due_at: Option<i64>,
    pub resolve_risk_at: Option<i64>,
    pub resolve_frozen: Option<String>,
    pub sla_due_at: Option<i64>,
    pub sla_risk_at: Option<i64>,
    pub sla_frozen: Option<String>,
    pub replay_state: Option<String>,
    pub event_body: Option<String>,
}

pub async fn detail(pool: &Pool, id: i64) -> anyhow::Result<Option<DetailRow>> {
    sqlx::query_as(
        "SELECT e.id, e.kind, e.status, e.severity, e.site, e.queue, e.summary, e.refs, e.payload, e.created_at, \
         e.updated_at, e.assignee, e.occurrences, e.version, e.correlation_id, e.sla_policy_version, \
         e.ack_due_at, e.ack_risk_at, e.ack_frozen, e.resolve_due_at, e.resolve_risk_at, e.resolve_frozen, \
         e.sla_due_at, e.sla_risk_at, e.sla_frozen, e.replay_state, v.body AS event_body \
         FROM exceptions e LEFT JOIN events v ON v.id = e.event_id WHERE e.id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .context("Failed to read an exception")
}

/// The events counted on an exception, newest first: (received, source, id).
pub async fn occurrences(pool: &Pool, id: i64) -> anyhow::Result<Vec<(i64, String, String)>> {
    sqlx::query_as("SELECT received_at, source, event_id FROM events WHERE exception_id = ? ORDER BY id DESC LIMIT 100")
        .bind(id)
        .fetch_all(pool)
        .await
        .context("Failed to read occurrences")
}

/// A user who may be given exceptions: name, role, and queues.
pub async fn assignable(tx: &mut super::Tx<'_>, username: &str) -> anyhow::Result<Option<(String, Vec<String>)>> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT id, role FROM users WHERE username = ? AND disabled_at IS NULL")
            .bind(username)
            .fetch_optional(&mut **tx)
            .await
            .context("Failed to read a user")?;
    let Some((id, role)) = row else { return Ok(None) };
    let queues = super::users::queues_of(&mut **tx, id).await?;
    Ok(Some((role, queues)))
}
