//! Business KPIs, for everyone; their targets, for admins.

use chrono::{Duration, NaiveDate};
use crossdock::accounts::Permission;
use crossdock::kpi::{KpiQuery, KpiTargets, Period};
use crossdock_app::AppError;
use crossdock_app::dto::KpiView;
use crossdock_app::ports::KpisPort;

use super::{ConsoleServices, answer};

/// The days a report covers when none are given.
const DEFAULT_DAYS: i64 = 14;

#[async_trait::async_trait]
impl KpisPort for ConsoleServices {
    async fn kpis(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        period: Period,
        site: Option<String>,
        supplier: Option<String>,
    ) -> Result<KpiView, AppError> {
        answer(async {
            // One read of the session: a second would find no request in SSR.
            let me = self.user().await?;
            let viewer = me.viewer();
            let may_set_targets = me.role.allows(Permission::ManageConfiguration);
            let to = to.unwrap_or_else(|| self.services.now().date_naive());
            let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
            let query = KpiQuery { from, to, period, site, supplier };
            let (report, choices) = self.services.kpis(&viewer, &query).await?;
            Ok(KpiView {
                report,
                sites: choices.sites,
                suppliers: choices.suppliers,
                targets: self.services.configuration().kpi_targets.clone(),
                may_set_targets,
            })
        })
        .await
    }

    async fn save_kpi_targets(&self, targets: KpiTargets) -> Result<(), AppError> {
        answer(async { Ok(self.services.save_kpi_targets(&self.as_admin().await?, targets).await?) }).await
    }
}
