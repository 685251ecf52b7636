//! Messages from the broker that could never be accepted, with the reason.

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::{Pool, from_millis, to_millis};

/// The most of a message's body kept here; the dead-letter subject carries
/// it whole.
pub const BODY_KEPT: usize = 64 * 1024;

/// A message set aside.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub subject: String,
    pub stream_seq: u64,
    pub reason: String,
    pub body: String,
}

/// A message to set aside.
pub struct NewDeadLetter<'a> {
    pub at: DateTime<Utc>,
    pub source_id: Option<i64>,
    pub subject: &'a str,
    pub stream_seq: u64,
    pub reason: &'a str,
    pub body: &'a [u8],
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: i64,
    subject: String,
    stream_seq: i64,
    reason: String,
    body: String,
}

/// Keeps a message that was set aside, its body cut to [`BODY_KEPT`]; once,
/// however often it is delivered.
pub async fn insert(pool: &Pool, letter: &NewDeadLetter<'_>) -> anyhow::Result<()> {
    let body = &letter.body[..letter.body.len().min(BODY_KEPT)];
    sqlx::query(
        "INSERT INTO dead_letters (at, source_id, subject, stream_seq, reason, body) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (subject, stream_seq) DO NOTHING",
    )
    .bind(to_millis(letter.at))
    .bind(letter.source_id)
    .bind(letter.subject)
    .bind(i64::try_from(letter.stream_seq).unwrap_or(i64::MAX))
    .bind(crossdock::text::storable(letter.reason).as_ref())
    .bind(crossdock::text::storable(&String::from_utf8_lossy(body)).as_ref())
    .execute(pool)
    .await
    .context("Failed to keep a dead letter")?;
    Ok(())
}

/// The newest `limit` messages set aside of one source, or of no source.
pub async fn newest_of(pool: &Pool, source_id: Option<i64>, limit: i64) -> anyhow::Result<Vec<DeadLetter>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT id, at, subject, stream_seq, reason, body FROM dead_letters \
         WHERE source_id {} $1 ORDER BY id DESC LIMIT $2",
        super::Backend::of(pool).is()
    ))
    .bind(source_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("Failed to read dead letters")?;
    rows.into_iter()
        .map(|r| {
            Ok(DeadLetter {
                id: r.id,
                at: from_millis(r.at)?,
                subject: r.subject,
                stream_seq: u64::try_from(r.stream_seq).unwrap_or_default(),
                reason: r.reason,
                body: r.body,
            })
        })
        .collect()
}

/// How many messages of each source were set aside, by source id.
pub async fn counts(pool: &Pool) -> anyhow::Result<Vec<(Option<i64>, i64)>> {
    sqlx::query_as("SELECT source_id, count(*) FROM dead_letters GROUP BY source_id")
        .fetch_all(pool)
        .await
        .context("Failed to count dead letters")
}
