//! Business KPIs: reports over the daily totals the ingest path keeps, the
//! transactions behind a point, targets, and counting the events logged
//! before the KPIs existed.

use anyhow::Context;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use crossdock::kpi::{Kpi, KpiQuery, KpiReport, Signal, report};

use super::{ServiceError, Services};
use crate::auth::Viewer;
use crate::store::kpi::Counted;
use crate::store::{self, Pool};

/// Events counted per transaction when catching up.
const BACKFILL_SLICE: i64 = 500;
/// How many transactions a point lists.
pub const BEHIND_LIMIT: u32 = 200;

/// Counts the milestones logged before the KPIs existed (once, at the first
/// start after the upgrade), a slice at a time.
pub(super) async fn backfill(pool: &Pool, config: &crossdock::config::Configuration) -> anyhow::Result<()> {
    let (up_to, mut after) = store::kpi::backfill(pool).await?;
    if up_to == 0 {
        return Ok(());
    }
    let mut counted = 0usize;
    loop {
        let rows = store::kpi::events_to_count(pool, after, up_to, BACKFILL_SLICE).await?;
        let Some((last, ..)) = rows.last() else { break };
        after = *last;
        // An event that no longer parses counts for nothing, as at ingest.
        let signals: Vec<Counted> = rows
            .iter()
            .filter_map(|(_, body, transaction)| {
                let value = serde_json::from_str(body).ok()?;
                let signal = Signal::of(&crossdock::event::parse_stored(&value).ok()?)?;
                let zone = signal.site().map_or(chrono_tz::UTC, |s| config.site_zone(s));
                Some(Counted { signal, zone, transaction: *transaction })
            })
            .collect();
        counted += signals.len();
        let mut tx = store::begin(pool).await.context("Failed to begin a transaction")?;
        store::kpi::count(&mut tx, &signals).await?;
        store::kpi::counted_through(&mut tx, after).await?;
        tx.commit().await.context("Failed to commit counted events")?;
        store::let_writers_in().await;
    }
    store::kpi::finish_backfill(pool).await?;
    tracing::info!(events = counted, "counted the milestones logged before the KPIs");
    Ok(())
}

/// What the KPI page offers to choose from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiChoices {
    pub sites: Vec<String>,
    pub suppliers: Vec<String>,
}

impl Services {
    /// The KPIs over a range, per site and period, with their targets.
    #[tracing::instrument(skip_all)]
    pub async fn kpis(&self, _viewer: &Viewer, query: &KpiQuery) -> Result<(KpiReport, KpiChoices), ServiceError> {
        query.validate().map_err(ServiceError::Problems)?;
        let config = self.configuration();
        let sites: Vec<String> = config.sites.keys().cloned().collect();
        if let Some(site) = &query.site
            && !sites.contains(site)
        {
            return Err(ServiceError::invalid("site", format!("there is no site `{site}`")));
        }
        let supplier = query.supplier.as_deref().unwrap_or("");
        // A week's point holds the whole week, the days before `from` too.
        let first = query.period.start_of(query.from);
        let rows = store::kpi::daily(&self.pool, supplier, first, query.to, query.site.as_deref()).await?;
        let suppliers = store::kpi::suppliers(&self.pool).await?;
        Ok((report(query, &rows, &sites, &config.kpi_targets), KpiChoices { sites, suppliers }))
    }

    /// The transactions one KPI counted at a site from `from` through `to`
    /// (days in the site's zone), as transaction names.
    pub async fn transactions_behind(
        &self,
        _viewer: &Viewer,
        kpi: Kpi,
        site: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<i64>, ServiceError> {
        let zone = self.configuration().site_zone(site);
        let start = |day: NaiveDate| {
            let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
            zone.from_local_datetime(&midnight).earliest().map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
        };
        let (begin, end) = (start(from), start(to + Duration::days(1)));
        Ok(store::kpi::transactions_behind(&self.pool, kpi, site, begin, end, BEHIND_LIMIT).await?)
    }
}
