//! The SLA board: open exceptions tallied by queue, site, person and SLA
//! state, what was opened, acknowledged and closed since an instant, and the
//! read-only links screens show the board through.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::board::{BoardGrouping, Dated, OpenTally, SinceCount};

use super::exceptions::NO_DUE;
use super::{Backend, Flag, Pool, Tx, from_millis, to_millis};

const OPEN: &str = "('new', 'acknowledged', 'in_progress', 'waiting')";

/// A tally's row: queue, site and assignee (`''` for the unassigned).
type Key = (String, String, String);

/// Key; open, waiting, paused, stopped past target, running, running
/// turned at risk and fallen due as of the tally clock.
type TallyRow = (String, String, String, i64, i64, i64, i64, i64, i64, i64);

/// Open exceptions per queue, site and person, in the SLA states of the
/// queue view's filter at `now` (an exception no policy times is in none),
/// and the tally clock they were read against.
///
/// The tallies are kept by triggers as of the tally clock; what turned at
/// risk or fell due between that instant and `now` is read from two short
/// index ranges and added (taken away when `now` is earlier).
pub async fn open_tallies(pool: &Pool, now: DateTime<Utc>) -> anyhow::Result<(Vec<OpenTally>, DateTime<Utc>)> {
    let now = to_millis(now);
    // One snapshot: the clock, the tallies and the turns agree.
    let mut tx = super::begin_read(pool).await.context("Failed to begin reading the tallies")?;
    let clock = tally_clock(&mut tx).await?;
    let rows: Vec<TallyRow> = sqlx::query_as(
        "SELECT queue, site, assignee, open, waiting, paused, frozen_breached, running, risk_passed, due_passed \
         FROM open_tallies WHERE open > 0",
    )
    .fetch_all(&mut *tx)
    .await
    .context("Failed to read the open tallies")?;
    let (sign, turns) =
        if now >= clock { (1, turns(&mut tx, clock, now).await?) } else { (-1, turns(&mut tx, now, clock).await?) };
    tx.commit().await.context("Failed to end reading the tallies")?;
    let tallies = rows
        .into_iter()
        .map(|(queue, site, assignee, open, waiting, paused, frozen_breached, running, risk, due)| {
            let key = (queue, site, assignee);
            let (risk_turned, due_turned) = turns.get(&key).copied().unwrap_or_default();
            let (risk, due) = (risk + sign * risk_turned, due + sign * due_turned);
            let (queue, site, assignee) = key;
            OpenTally {
                queue,
                site,
                assignee: (!assignee.is_empty()).then_some(assignee),
                open,
                on_track: running - risk,
                at_risk: risk - due,
                breached: due + frozen_breached,
                paused,
                waiting,
            }
        })
        .collect();
    Ok((tallies, from_millis(clock)?))
}

/// When the earliest running clock still open fell due, per board row
/// (queue, site or person; `None` for the unassigned), for the rows with
/// one due by `now`: one seek per row in an index ordered by due instant.
pub async fn earliest_breaches(
    pool: &Pool,
    grouping: BoardGrouping,
    now: DateTime<Utc>,
) -> anyhow::Result<BTreeMap<Option<String>, DateTime<Utc>>> {
    let (column, index) = match grouping {
        BoardGrouping::Queue => ("queue", "exceptions_open_queue_due"),
        BoardGrouping::Site => ("site", "exceptions_open_site_due"),
        BoardGrouping::Assignee => ("assignee", "exceptions_open_assignee_due"),
    };
    let backend = Backend::of(pool);
    let (indexed, is) = (backend.indexed_by(index), backend.is());
    let rows: Vec<(String, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT k.key, (SELECT e.sla_sort FROM exceptions e {indexed} \
            WHERE e.status IN {OPEN} AND e.{column} {is} NULLIF(k.key, '') ORDER BY e.sla_sort LIMIT 1) \
         FROM (SELECT DISTINCT {column} AS key FROM open_tallies WHERE open > 0) k"
    ))
    .fetch_all(pool)
    .await
    .context("Failed to read the earliest breaches")?;
    let now = to_millis(now);
    rows.into_iter()
        .filter_map(|(key, due)| due.filter(|due| *due <= now).map(|due| (key, due)))
        .map(|(key, due)| Ok(((!key.is_empty()).then_some(key), from_millis(due)?)))
        .collect()
}

async fn tally_clock(tx: &mut Tx<'_>) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT at FROM open_tally_clock WHERE id = 1")
        .fetch_one(&mut **tx)
        .await
        .context("Failed to read the tally clock")
}

/// Running clocks that turned at risk, and that fell due, in `(from, to]`, per row.
async fn turns(tx: &mut Tx<'_>, from: i64, to: i64) -> anyhow::Result<HashMap<Key, (i64, i64)>> {
    let mut turns: HashMap<Key, (i64, i64)> = HashMap::new();
    let backend = Backend::of_tx(tx);
    for (index, column) in [("exceptions_turn_risk", "sla_risk_at"), ("exceptions_turn_due", "sla_sort")] {
        let indexed = backend.indexed_by(index);
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(&format!(
            "SELECT queue, site, COALESCE(assignee, ''), COUNT(*) FROM exceptions {indexed} \
             WHERE status IN {OPEN} AND sla_sort < {NO_DUE} AND {column} > $1 AND {column} <= $2 \
             GROUP BY queue, site, assignee"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(&mut **tx)
        .await
        .context("Failed to read the clocks that turned")?;
        for (queue, site, assignee, n) in rows {
            let entry = turns.entry((queue, site, assignee)).or_default();
            if column == "sla_sort" {
                entry.1 += n;
            } else {
                entry.0 += n;
            }
        }
    }
    Ok(turns)
}

/// Moves the tally clock forward to `to`, folding what turned meanwhile
/// into the tallies; nothing when the clock is there already.
pub async fn advance_tally_clock(pool: &Pool, to: DateTime<Utc>) -> anyhow::Result<()> {
    let to = to_millis(to);
    let mut tx = super::begin(pool).await.context("Failed to begin moving the tally clock")?;
    let clock = tally_clock(&mut tx).await?;
    if to <= clock {
        return Ok(());
    }
    for ((queue, site, assignee), (risk, due)) in turns(&mut tx, clock, to).await? {
        sqlx::query(
            "UPDATE open_tallies SET risk_passed = risk_passed + $1, due_passed = due_passed + $2 \
             WHERE queue = $3 AND site = $4 AND assignee = $5",
        )
        .bind(risk)
        .bind(due)
        .bind(queue)
        .bind(site)
        .bind(assignee)
        .execute(&mut *tx)
        .await
        .context("Failed to fold turned clocks into the tallies")?;
    }
    sqlx::query("UPDATE open_tally_clock SET at = $1 WHERE id = 1")
        .bind(to)
        .execute(&mut *tx)
        .await
        .context("Failed to move the tally clock")?;
    tx.commit().await.context("Failed to commit the tally clock")
}

type DatedRow = (i64, String, String, Option<String>, Option<i64>, Flag);

fn dated(rows: Vec<DatedRow>) -> anyhow::Result<Vec<Dated>> {
    rows.into_iter()
        .map(|(at, queue, site, assignee, seconds, resolved)| {
            Ok(Dated { at: from_millis(at)?, queue, site, assignee, seconds, resolved: resolved.0 })
        })
        .collect()
}

/// How many exceptions were opened, and how many resolved (and still
/// resolved), since each of `starts`, per queue, site and person: counted
/// in the database from the indexes alone, so a busy day costs a few
/// hundred rows, not one per exception.
pub async fn counted_since(
    pool: &Pool,
    starts: &BTreeSet<DateTime<Utc>>,
) -> anyhow::Result<(Vec<SinceCount>, Vec<SinceCount>)> {
    let (mut opened, mut resolved) = (Vec::new(), Vec::new());
    let backend = Backend::of(pool);
    for since in starts {
        for (sql, into) in [
            (
                format!(
                    "SELECT queue, site, assignee, COUNT(*) FROM exceptions {} \
                     WHERE created_at >= $1 GROUP BY queue, site, assignee",
                    backend.indexed_by("exceptions_opened")
                ),
                &mut opened,
            ),
            (
                format!(
                    "SELECT queue, site, assignee, COUNT(*) FROM exceptions {} \
                     WHERE closed_at >= $1 AND status = 'resolved' GROUP BY queue, site, assignee",
                    backend.indexed_by("exceptions_closed")
                ),
                &mut resolved,
            ),
        ] {
            let rows: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(&sql)
                .bind(to_millis(*since))
                .fetch_all(pool)
                .await
                .context("Failed to count today's work")?;
            into.extend(rows.into_iter().map(|(queue, site, assignee, count)| SinceCount {
                since: *since,
                queue,
                site,
                assignee,
                count,
            }));
        }
    }
    Ok((opened, resolved))
}

/// Exceptions first acknowledged since `since`, with the business seconds it took.
pub async fn acknowledged_since(pool: &Pool, since: DateTime<Utc>) -> anyhow::Result<Vec<Dated>> {
    let rows = sqlx::query_as(&format!(
        "SELECT acknowledged_at, queue, site, assignee, ack_seconds, 0 FROM exceptions {} WHERE acknowledged_at >= $1",
        Backend::of(pool).indexed_by("exceptions_acknowledged")
    ))
    .bind(to_millis(since))
    .fetch_all(pool)
    .await
    .context("Failed to read the acknowledgements of the week")?;
    dated(rows)
}

/// Exceptions closed since `since` and still closed, with the business
/// seconds their resolve clock ran and whether they were resolved.
pub async fn closed_since(pool: &Pool, since: DateTime<Utc>) -> anyhow::Result<Vec<Dated>> {
    let rows = sqlx::query_as(&format!(
        "SELECT closed_at, queue, site, assignee, resolve_seconds, status = 'resolved' FROM exceptions {} \
         WHERE closed_at >= $1",
        Backend::of(pool).indexed_by("exceptions_closed")
    ))
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
        "INSERT INTO board_links (name, token_hash, grouping, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
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
    sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM board_links WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .context("Failed to read a board link")
}

/// The live link a token opens.
pub async fn live_link_by_hash(pool: &Pool, token_hash: &str) -> anyhow::Result<Option<LinkRow>> {
    sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM board_links WHERE token_hash = $1 AND revoked_at IS NULL"))
        .bind(token_hash)
        .fetch_optional(pool)
        .await
        .context("Failed to look up a board link")
}

/// Revokes a live link; `false` when it was revoked already.
pub async fn revoke_link(tx: &mut Tx<'_>, id: i64, by: &str, at: DateTime<Utc>) -> anyhow::Result<bool> {
    let done =
        sqlx::query("UPDATE board_links SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind(to_millis(at))
            .bind(by)
            .bind(id)
            .execute(&mut **tx)
            .await
            .context("Failed to revoke a board link")?;
    Ok(done.rows_affected() == 1)
}
