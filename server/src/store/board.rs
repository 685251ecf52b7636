//! The SLA board: open exceptions tallied by queue, site, person and SLA
//! state, what was opened, acknowledged and closed since an instant, and the
//! read-only links screens show the board through.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::board::{BoardGrouping, Dated, OpenTally};

use super::exceptions::NO_DUE;
use super::{Pool, Tx, from_millis, to_millis};

/// Queue, site, assignee; open, on track, at risk, breached, paused,
/// waiting; the earliest breach.
type TallyRow = (String, String, Option<String>, i64, i64, i64, i64, i64, i64, Option<i64>);

/// Open exceptions per queue, site and person, in the SLA states of the
/// queue view's filter (an exception no policy times is in none): one pass
/// over the board's index in its own order, so nothing is sorted.
pub async fn open_tallies(pool: &Pool, now: DateTime<Utc>) -> anyhow::Result<Vec<OpenTally>> {
    let now = to_millis(now);
    let rows: Vec<TallyRow> = sqlx::query_as(&format!(
        "SELECT e.queue, e.site, e.assignee, COUNT(*), \
           SUM(CASE WHEN e.sla_frozen IS NULL AND e.sla_sort < {NO_DUE} AND e.sla_risk_at > {now} THEN 1 ELSE 0 END), \
           SUM(CASE WHEN e.sla_frozen IS NULL AND e.sla_sort > {now} AND e.sla_risk_at <= {now} THEN 1 ELSE 0 END), \
           SUM(CASE WHEN (e.sla_frozen IS NULL AND e.sla_sort <= {now}) OR e.sla_frozen = 'breached' THEN 1 ELSE 0 END), \
           SUM(CASE WHEN e.sla_frozen = 'paused' THEN 1 ELSE 0 END), \
           SUM(CASE WHEN e.status = 'waiting' THEN 1 ELSE 0 END), \
           MIN(CASE WHEN e.sla_frozen IS NULL AND e.sla_sort <= {now} THEN e.sla_sort END) \
         FROM exceptions e INDEXED BY exceptions_open_board \
         WHERE e.status IN ('new', 'acknowledged', 'in_progress', 'waiting') \
         GROUP BY e.queue, e.site, e.assignee"
    ))
    .fetch_all(pool)
    .await
    .context("Failed to tally the open exceptions")?;
    rows.into_iter()
        .map(|(queue, site, assignee, open, on_track, at_risk, breached, paused, waiting, earliest)| {
            Ok(OpenTally {
                queue,
                site,
                assignee,
                open,
                on_track,
                at_risk,
                breached,
                paused,
                waiting,
                earliest_breach: earliest.map(from_millis).transpose()?,
            })
        })
        .collect()
}

type DatedRow = (i64, String, String, Option<String>, Option<i64>, bool);

fn dated(rows: Vec<DatedRow>) -> anyhow::Result<Vec<Dated>> {
    rows.into_iter()
        .map(|(at, queue, site, assignee, seconds, resolved)| {
            Ok(Dated { at: from_millis(at)?, queue, site, assignee, seconds, resolved })
        })
        .collect()
}

/// Exceptions opened since `since`.
pub async fn opened_since(pool: &Pool, since: DateTime<Utc>) -> anyhow::Result<Vec<Dated>> {
    let rows = sqlx::query_as(
        "SELECT created_at, queue, site, assignee, NULL, 0 FROM exceptions INDEXED BY exceptions_opened \
         WHERE created_at >= ?",
    )
    .bind(to_millis(since))
    .fetch_all(pool)
    .await
    .context("Failed to read the exceptions opened today")?;
    dated(rows)
}

/// Exceptions first acknowledged since `since`, with the business seconds it took.
pub async fn acknowledged_since(pool: &Pool, since: DateTime<Utc>) -> anyhow::Result<Vec<Dated>> {
    let rows = sqlx::query_as(
        "SELECT acknowledged_at, queue, site, assignee, ack_seconds, 0 FROM exceptions \
         INDEXED BY exceptions_acknowledged WHERE acknowledged_at >= ?",
    )
    .bind(to_millis(since))
    .fetch_all(pool)
    .await
    .context("Failed to read the acknowledgements of the week")?;
    dated(rows)
}

/// Exceptions closed since `since` and still closed, with the business
/// seconds their resolve clock ran and whether they were resolved.
pub async fn closed_since(pool: &Pool, since: DateTime<Utc>) -> anyhow::Result<Vec<Dated>> {
    let rows = sqlx::query_as(
        "SELECT closed_at, queue, site, assignee, resolve_seconds, status = 'resolved' FROM exceptions \
         INDEXED BY exceptions_closed WHERE closed_at >= ?",
    )
    .bind(to_millis(since))
    .fetch_all(pool)
    .await
    .context("Failed to read the closings of the week")?;
    dated(rows)
}

/// A read-only board link, as listed to admins (never its token).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub id: i64,
    pub name: String,
    pub grouping: String,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
}

impl LinkRow {
    pub fn grouping(&self) -> anyhow::Result<BoardGrouping> {
        self.grouping.parse().context("stored board grouping is invalid")
    }
}

const LINK_COLUMNS: &str = "id, name, grouping, created_by, created_at, revoked_at, revoked_by";

pub async fn create_link(
    tx: &mut Tx<'_>,
    name: &str,
    token_hash: &str,
    grouping: BoardGrouping,
    by: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO board_links (name, token_hash, grouping, created_by, created_at) VALUES (?, ?, ?, ?, ?) \
         RETURNING id",
    )
    .bind(name)
    .bind(token_hash)
    .bind(grouping.as_str())
    .bind(by)
    .bind(to_millis(at))
    .fetch_one(&mut **tx)
    .await
    .context("Failed to create a board link")
}

/// Every link, the newest first.
pub async fn links(pool: &Pool) -> anyhow::Result<Vec<LinkRow>> {
    sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM board_links ORDER BY id DESC"))
        .fetch_all(pool)
        .await
        .context("Failed to list the board links")
}

pub async fn link(tx: &mut Tx<'_>, id: i64) -> anyhow::Result<Option<LinkRow>> {
    sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM board_links WHERE id = ?"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .context("Failed to read a board link")
}

/// The live link a token opens.
pub async fn live_link_by_hash(pool: &Pool, token_hash: &str) -> anyhow::Result<Option<LinkRow>> {
    sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM board_links WHERE token_hash = ? AND revoked_at IS NULL"))
        .bind(token_hash)
        .fetch_optional(pool)
        .await
        .context("Failed to look up a board link")
}

/// Revokes a live link; `false` when it was revoked already.
pub async fn revoke_link(tx: &mut Tx<'_>, id: i64, by: &str, at: DateTime<Utc>) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE board_links SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(to_millis(at))
        .bind(by)
        .bind(id)
        .execute(&mut **tx)
        .await
        .context("Failed to revoke a board link")?;
    Ok(done.rows_affected() == 1)
}
