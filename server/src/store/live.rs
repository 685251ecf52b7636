//! Where an instance learns that something a console shows has changed:
//! the counter SQLite's triggers keep, or PostgreSQL's `crossdock_changes`
//! channel (see the `live_changes` migrations).

use anyhow::Context;
use sqlx::postgres::PgListener;

use super::Pool;

/// The channel PostgreSQL's triggers notify.
const CHANNEL: &str = "crossdock_changes";

/// SQLite: the number of changes counted so far.
pub async fn counted(pool: &Pool) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT n FROM live_changes WHERE id = 1")
        .fetch_one(pool)
        .await
        .context("Failed to read the count of changes")
}

/// PostgreSQL: a connection of its own listening to the channel, and the
/// schema whose notifications are this installation's.
pub async fn listen(pool: &Pool) -> anyhow::Result<(PgListener, String)> {
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(pool)
        .await
        .context("Failed to read the schema")?;
    let url = pool.connect_options().database_url.clone();
    let mut listener = PgListener::connect(url.as_str()).await.context("Failed to connect a listener")?;
    listener.listen(CHANNEL).await.context("Failed to listen for changes")?;
    Ok((listener, schema))
}
