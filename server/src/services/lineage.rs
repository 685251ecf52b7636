//! Lineage: business transactions end to end, across systems.

use anyhow::Context;
use chrono::Utc;
use crossdock::lineage::Facts;

use crate::store::{self, Pool};

/// Events placed per transaction when catching up.
const BACKFILL_SLICE: i64 = 500;

/// Places the events logged before lineage existed (once, at the first start
/// after the upgrade), a slice at a time.
pub(super) async fn backfill(pool: &Pool) -> anyhow::Result<()> {
    let up_to: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(up_to_event), 0) FROM lineage_backfill")
        .fetch_one(pool)
        .await
        .context("Failed to read the lineage backfill")?;
    if up_to == 0 {
        return Ok(());
    }
    let mut after = 0i64;
    let mut placed = 0usize;
    loop {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, body FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?")
                .bind(after)
                .bind(up_to)
                .bind(BACKFILL_SLICE)
                .fetch_all(pool)
                .await
                .context("Failed to read events to place")?;
        let Some((last, _)) = rows.last() else { break };
        after = *last;
        // An event stored before a rule of the contract tightened may no
        // longer parse: it keeps no transaction, as any keyless event.
        let facts: Vec<(i64, Facts)> = rows
            .iter()
            .filter_map(|(id, body)| {
                let value = serde_json::from_str(body).ok()?;
                Some((*id, Facts::of(&crossdock::event::parse(&value).ok()?)))
            })
            .collect();
        let refs: Vec<(i64, &Facts)> = facts.iter().map(|(id, f)| (*id, f)).collect();
        let mut tx = store::begin(pool).await.context("Failed to begin a transaction")?;
        placed += store::lineage::place_events(&mut tx, &refs, Utc::now()).await?.len();
        tx.commit().await.context("Failed to commit placed events")?;
        store::let_writers_in().await;
    }
    let mut tx = store::begin(pool).await.context("Failed to begin a transaction")?;
    sqlx::query(
        "UPDATE exceptions SET transaction_id = (SELECT e.transaction_id FROM events e WHERE e.id = exceptions.event_id) \
         WHERE transaction_id IS NULL AND event_id IS NOT NULL",
    )
    .execute(&mut *tx)
    .await
    .context("Failed to give exceptions their transactions")?;
    sqlx::query("UPDATE lineage_backfill SET up_to_event = 0").execute(&mut *tx).await.context("Failed to finish")?;
    tx.commit().await.context("Failed to commit the lineage backfill")?;
    tracing::info!(events = placed, "placed the events logged before lineage in their transactions");
    Ok(())
}
