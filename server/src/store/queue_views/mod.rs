//! Queue views: filtered, sorted, keyset-paginated pages of exceptions, and
//! the counts beside them.

use crate::store::sql::Builder;
use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::lifecycle::Status;
use crossdock::sla::SlaState;
use crossdock::triage::{AssigneeFilter, Cursor, QueueFilter, QueuePage, SortOrder};

use super::exceptions::{ITEM_COLUMNS, ItemRow};
use super::{Backend, Pool, to_millis};

mod words;

use words::text_match;
pub use words::{TextMatch, tidy_words};

const OPEN: &str = "('new', 'acknowledged', 'in_progress', 'waiting')";
const CLOSED: &str = "('resolved', 'dismissed')";

/// Which statuses a view shows, as the indexes of its orders divide them:
/// some open ones, some closed ones, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Within {
    Open,
    Closed,
    Both,
}

impl Within {
    fn of(filter: &QueueFilter) -> Within {
        let statuses = filter.effective_statuses();
        if statuses.iter().all(|s| s.is_open()) {
            Within::Open
        } else if statuses.iter().all(|s| !s.is_open()) {
            Within::Closed
        } else {
            Within::Both
        }
    }

    fn of_one(status: Status) -> Within {
        if status.is_open() { Within::Open } else { Within::Closed }
    }

    /// The condition the partial indexes of these statuses are defined by,
    /// word for word (SQLite uses a partial index only for a statement that
    /// says its condition).
    fn condition(self) -> Option<&'static str> {
        match self {
            Within::Open => Some(OPEN),
            Within::Closed => Some(CLOSED),
            Within::Both => None,
        }
    }
}

/// Who is looking, for `assignee=me` and the queues in reach.
pub struct Reach<'a> {
    pub username: &'a str,
    /// Queues in reach; `None` for every queue.
    pub queues: Option<&'a [String]>,
}

fn push_in<'a, T: 'a>(
    q: &mut Builder<'a>,
    column: &str,
    values: impl IntoIterator<Item = T>,
    bind: impl Fn(&mut Builder<'a>, T),
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
fn push_filter<'a>(
    q: &mut Builder<'a>,
    reach: &Reach<'a>,
    filter: &'a QueueFilter,
    text: &'a Option<TextMatch>,
    now: i64,
    backend: Backend,
) {
    if let Some(queues) = reach.queues {
        push_in(q, "e.queue", queues.iter(), |q, v| {
            q.push_bind(v.as_str());
        });
    }
    if !filter.queues.is_empty() {
        push_in(q, "e.queue", filter.queues.iter(), |q, v| {
            q.push_bind(v.as_str());
        });
    }
    // Statuses are the enum's own words, never people's: written into the
    // statement, so that each backend sees which partial indexes of the
    // open or the closed exceptions hold them.
    let statuses = filter.effective_statuses();
    let within = Within::of(filter);
    if !filter.any_status() {
        let group = within.condition();
        let whole = Status::ALL.iter().filter(|s| Within::of_one(**s) == within).all(|s| statuses.contains(s));
        match group {
            Some(group) if whole => {
                q.push(format!(" AND e.status IN {group}"));
            }
            _ => {
                let list: Vec<String> = statuses.iter().map(|s| format!("'{}'", s.as_str())).collect();
                q.push(format!(" AND e.status IN ({})", list.join(", ")));
                // SQLite uses a partial index only for a statement that says
                // its condition word for word; PostgreSQL proves it from the
                // list (and would count the rows twice if told it again).
                if let (Some(group), Backend::Sqlite) = (group, backend) {
                    q.push(format!(" AND e.status IN {group}"));
                }
            }
        }
    }
    if !filter.severities.is_empty() {
        push_in(q, "e.severity", filter.severities.iter(), |q, v| {
            q.push_bind(v.as_str());
        });
        // The same, said of the column the severity order is read by, so
        // that a view in that order seeks to them.
        let orders: Vec<String> =
            filter.severities.iter().map(|s| crossdock::triage::severity_order(*s).to_string()).collect();
        q.push(format!(" AND e.severity_order IN ({})", orders.join(", ")));
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
        // The supplier's own index, in the view's order: a supplier is a
        // small share of all.
        q.push(" AND e.supplier = ");
        q.push_bind(supplier.as_str());
    }
    match &filter.assignee {
        AssigneeFilter::Anyone => {}
        AssigneeFilter::Me => {
            q.push(" AND e.assignee = ");
            q.push_bind(reach.username);
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
        if within == Within::Closed && running_only(filter) {
            // What each running state says, as the condition of the index
            // of closed exceptions whose clock runs (said only here: it
            // would lead PostgreSQL to count the open ones too few).
            q.push(" AND e.sla_frozen IS NULL AND e.sla_due_at IS NOT NULL");
        }
        q.push(" AND (1 = 0");
        for state in &filter.sla {
            q.push(" OR ");
            match state {
                SlaState::OnTrack => {
                    q.push(format!("(e.sla_frozen IS NULL AND e.sla_due_at IS NOT NULL AND e.sla_risk_at > {now})"))
                }
                SlaState::AtRisk => {
                    q.push(format!("(e.sla_frozen IS NULL AND e.sla_risk_at <= {now} AND e.sla_due_at > {now})"))
                }
                SlaState::Breached => q.push(format!("(e.sla_frozen IS NULL AND e.sla_due_at <= {now})")),
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
        // Words, through the full-text index.
        Some(TextMatch::Fts5 { query, common: false, .. }) => {
            q.push(" AND e.id IN (SELECT rowid FROM exception_words WHERE exception_words MATCH ");
            q.push_bind(query.as_str()).push(")");
        }
        Some(TextMatch::Fts5 { query, common: true, sieve }) => {
            if !sieve.is_empty() {
                // A text beyond ASCII is left to the index.
                q.push(" AND EXISTS (SELECT 1 FROM exception_words_content c WHERE c.id = e.id");
                q.push(" AND (length(CAST(c.c0 AS BLOB)) <> length(c.c0)");
                for (i, glob) in sieve.iter().enumerate() {
                    q.push(if i == 0 { " OR (" } else { " AND " });
                    q.push("(' ' || c.c0 || ' ') GLOB ").push_bind(glob.as_str());
                }
                q.push(")))");
            }
            q.push(" AND EXISTS (SELECT 1 FROM exception_words w WHERE w.rowid = e.id AND w.exception_words MATCH ");
            q.push_bind(query.as_str()).push(")");
        }
        // The matches collected once (an array the planner cannot turn into
        // a walk of the view's order), then read by id.
        Some(TextMatch::TsQuery { query, common: false }) => {
            q.push(" AND e.id = ");
            push_matches(q, query.clone());
        }
        Some(TextMatch::TsQuery { query, common: true }) => {
            q.push(" AND EXISTS (SELECT 1 FROM exception_words w WHERE w.exception_id = e.id");
            q.push(" AND (w.own || w.notes) @@ to_tsquery('simple', ").push_bind(query.as_str()).push("))");
        }
        Some(TextMatch::Nothing) => {
            q.push(" AND 1 = 0");
        }
        None => {}
    }
    for (column, since) in [
        ("e.created_at", filter.opened_since),
        ("e.acknowledged_at", filter.acked_since),
        ("e.closed_at", filter.closed_since),
    ] {
        if let Some(t) = since {
            q.push(format!(" AND {column} >= ")).push_bind(to_millis(t));
        }
    }
}

/// `ANY (…)` of the ids of the exceptions a PostgreSQL text query matches,
/// collected once.
fn push_matches(q: &mut Builder<'_>, query: String) {
    q.push("ANY (ARRAY(SELECT w.exception_id FROM exception_words w");
    q.push(" WHERE (w.own || w.notes) @@ to_tsquery('simple', ").push_bind(query).push(")))");
}

/// Whether a view's statement is planned for its own values each time
/// rather than kept prepared: on PostgreSQL a prepared statement soon runs on
/// a generic plan, which cannot tell a rare word from a common one and walks
/// the view's whole order for a rare one (seconds at depth).
fn planned(text: &Option<TextMatch>) -> bool {
    matches!(text, Some(TextMatch::TsQuery { .. }))
}

/// On SQLite, the index a view is read through, in the view's order (a
/// person's own in theirs), unless a filter has an index of its own (a
/// supplier, a business key, rare words) or the view holds the open
/// exceptions of one queue (whose indexes the planner finds). SQLite's
/// planner would read every row that several queues, a site or a severity
/// leave and sort them (50 ms to 1.4 s at a million exceptions), where
/// walking the order and passing over what does not match reads a few
/// hundred rows.
fn walk_index(backend: Backend, reach: &Reach<'_>, filter: &QueueFilter, text: &Option<TextMatch>) -> String {
    let one_queue = reach.queues.is_some_and(|q| q.len() == 1) || filter.queues.len() == 1;
    let own_index =
        filter.supplier.is_some() || matches!(text, Some(TextMatch::Key(_) | TextMatch::Fts5 { common: false, .. }));
    let within = Within::of(filter);
    if own_index {
        return String::new();
    }
    if within == Within::Closed && running_only(filter) {
        return backend.indexed_by("exceptions_closed_running");
    }
    if matches!(filter.assignee, AssigneeFilter::Me | AssigneeFilter::Person(_)) {
        return backend.indexed_by(match filter.sort() {
            SortOrder::SlaDue => "exceptions_assignee",
            SortOrder::Severity => "exceptions_assignee_severity",
            SortOrder::Age => "exceptions_assignee_created",
        });
    }
    let index = match (within, filter.sort(), one_queue) {
        (Within::Open, _, true) => return String::new(),
        (Within::Open, SortOrder::SlaDue, false) => "exceptions_open_due",
        (Within::Open, SortOrder::Severity, false) => "exceptions_open_severity",
        (Within::Open, SortOrder::Age, false) => "exceptions_open_created",
        (Within::Closed, SortOrder::SlaDue, true) => "exceptions_closed_queue_due",
        (Within::Closed, SortOrder::Severity, true) => "exceptions_closed_queue_severity",
        (Within::Closed, SortOrder::SlaDue, false) => "exceptions_closed_due",
        (Within::Closed, SortOrder::Severity, false) => "exceptions_closed_severity",
        // Closed exceptions are most of all: oldest first, they and the
        // views of both walk every exception's order of age.
        (_, SortOrder::Age, true) => "exceptions_queue_created",
        (_, SortOrder::Age, false) => "exceptions_created_id",
        (Within::Both, SortOrder::SlaDue, _) => "exceptions_due",
        (Within::Both, SortOrder::Severity, _) => "exceptions_severity",
    };
    backend.indexed_by(index)
}

/// Whether a view's SLA filter holds running states only (on track, at
/// risk, breached): each of them needs a clock that runs and has a due time.
fn running_only(filter: &QueueFilter) -> bool {
    !filter.sla.is_empty()
        && filter.sla.iter().all(|s| matches!(s, SlaState::OnTrack | SlaState::AtRisk | SlaState::Breached))
}

/// One page of a view: `limit` rows after `after`.
pub async fn page(
    pool: &Pool,
    reach: &Reach<'_>,
    filter: &QueueFilter,
    after: Option<Cursor>,
    limit: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<QueuePage> {
    let now = to_millis(now);
    let sort = filter.sort();
    let text = text_match(pool, filter).await?;
    let backend = Backend::of(pool);
    let walk = walk_index(backend, reach, filter, &text);
    let fresh_plan = planned(&text);
    let mut q = Builder::new(format!("SELECT {ITEM_COLUMNS} FROM "));
    let text = match text {
        // The matches read by id, behind a fence the planner does not see
        // through, then sorted: given a cursor deep in a view's order,
        // PostgreSQL would otherwise walk the order from the cursor on,
        // misjudging how many rows share its key (all closed exceptions
        // share the last SLA key).
        Some(TextMatch::TsQuery { query, common: false }) => {
            q.push("(SELECT * FROM exceptions m WHERE m.id = ");
            push_matches(&mut q, query);
            q.push(" OFFSET 0) e");
            None
        }
        text => {
            q.push(format!("exceptions e {walk}"));
            text
        }
    };
    q.push(" WHERE 1 = 1");
    push_filter(&mut q, reach, filter, &text, now, backend);
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
    let mut rows: Vec<ItemRow> =
        q.build_query_as().persistent(!fresh_plan).fetch_all(pool).await.context("Failed to read a queue page")?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.cursor(sort))
    } else {
        None
    };
    let items = rows.into_iter().map(ItemRow::into_item).collect::<anyhow::Result<_>>()?;
    Ok(QueuePage { items, next })
}

/// How many exceptions a view holds in all (for a bulk action's preview).
pub async fn count(pool: &Pool, reach: &Reach<'_>, filter: &QueueFilter, now: DateTime<Utc>) -> anyhow::Result<i64> {
    let text = text_match(pool, filter).await?;
    let mut q = Builder::new("SELECT COUNT(*) FROM exceptions e WHERE 1 = 1");
    push_filter(&mut q, reach, filter, &text, to_millis(now), Backend::of(pool));
    q.build_query_scalar().persistent(!planned(&text)).fetch_one(pool).await.context("Failed to count a view")
}

/// The ids a view holds, in its order (for a bulk action on the whole view).
pub async fn ids(
    pool: &Pool,
    reach: &Reach<'_>,
    filter: &QueueFilter,
    now: DateTime<Utc>,
    max: u32,
) -> anyhow::Result<Vec<i64>> {
    let text = text_match(pool, filter).await?;
    let mut q = Builder::new("SELECT e.id FROM exceptions e WHERE 1 = 1");
    push_filter(&mut q, reach, filter, &text, to_millis(now), Backend::of(pool));
    q.push(" ORDER BY e.id LIMIT ").push_bind(i64::from(max));
    q.build_query_scalar().persistent(!planned(&text)).fetch_all(pool).await.context("Failed to list a view")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The partial indexes' conditions name the open and the closed
    /// statuses in the order `Status::ALL` has them, as the migrations do.
    #[test]
    fn the_open_and_closed_conditions_are_the_statuses_of_each_kind() {
        let list = |open: bool| {
            let words: Vec<String> =
                Status::ALL.iter().filter(|s| s.is_open() == open).map(|s| format!("'{}'", s.as_str())).collect();
            format!("({})", words.join(", "))
        };
        assert_eq!(OPEN, list(true));
        assert_eq!(CLOSED, list(false));
    }
}
