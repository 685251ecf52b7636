//! Business KPIs drawn from the milestones: fill rate, late receipts,
//! allocation failures, shipment latency and delivery confirmation lag.
//!
//! Each milestone is read once into a [`Signal`]. Signals change the state of
//! the thing they are about (a PO line, an order, a shipment); each state
//! yields the [`Contribution`]s it makes to one day of one KPI at one site.
//! The store keeps daily totals up to date by taking away what a state
//! contributed before a signal and adding what it contributes after, so a
//! report sums a few rows per day rather than scanning events.

use serde::{Deserialize, Serialize};

use crate::named_enum;

mod report;
mod state;

pub use report::{DailyRow, KpiQuery, KpiReport, KpiSeries, KpiTargets, Period, Point, Series, Totals, report};
pub use state::{Contribution, NO_SITE, OrderState, PoLineState, ShipmentState, Signal, allocation};

named_enum! {
    /// The business KPIs.
    pub enum Kpi ("KPI") {
        /// Received over ordered quantity, per PO line (capped at what was ordered).
        FillRate => "fill_rate",
        /// Receipt day against the promised date, per PO line.
        LateReceipts => "late_receipts",
        /// Failed over attempted allocations.
        AllocationFailures => "allocation_failures",
        /// Order released to shipment dispatched.
        ShipmentLatency => "shipment_latency",
        /// Shipment dispatched to delivery confirmed.
        DeliveryLag => "delivery_lag",
        /// Delivered (as the proof of delivery says) to the proof of delivery received.
        PodLag => "pod_lag",
    }
}

/// What a KPI's value measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Percent,
    Hours,
}

impl Unit {
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Percent => format!("{value:.1} %"),
            Unit::Hours => format!("{value:.1} h"),
        }
    }
}

/// How many buckets a KPI's distribution has.
pub const BUCKETS: usize = 7;

impl Kpi {
    pub const fn label(self) -> &'static str {
        match self {
            Kpi::FillRate => "Fill rate",
            Kpi::LateReceipts => "Late receipts",
            Kpi::AllocationFailures => "Allocation failures",
            Kpi::ShipmentLatency => "Shipment latency",
            Kpi::DeliveryLag => "Delivery confirmation lag",
            Kpi::PodLag => "Proof of delivery lag",
        }
    }

    pub const fn description(self) -> &'static str {
        match self {
            Kpi::FillRate => "Quantity received over quantity ordered, per PO line, on the day of its first receipt.",
            Kpi::LateReceipts => {
                "Share of PO lines first received after the date the supplier promised; the distribution is days early (negative) or late."
            }
            Kpi::AllocationFailures => "Failed allocations over all allocations attempted (allocated or failed).",
            Kpi::ShipmentLatency => "Hours from an order's release to the dispatch of its shipment.",
            Kpi::DeliveryLag => "Hours from a shipment's dispatch to the confirmation of its delivery.",
            Kpi::PodLag => "Hours from the delivery to its proof of delivery reaching Crossdock's sources.",
        }
    }

    pub const fn unit(self) -> Unit {
        match self {
            Kpi::FillRate | Kpi::LateReceipts | Kpi::AllocationFailures => Unit::Percent,
            Kpi::ShipmentLatency | Kpi::DeliveryLag | Kpi::PodLag => Unit::Hours,
        }
    }

    /// Whether a higher value is better (else lower is).
    pub const fn higher_is_better(self) -> bool {
        matches!(self, Kpi::FillRate)
    }

    /// Whether it is measured per supplier too.
    pub const fn by_supplier(self) -> bool {
        matches!(self, Kpi::FillRate | Kpi::LateReceipts)
    }

    /// The flow whose transactions it is measured on.
    pub const fn flow(self) -> crate::lineage::Flow {
        match self {
            Kpi::FillRate | Kpi::LateReceipts => crate::lineage::Flow::ProcureToReceive,
            _ => crate::lineage::Flow::OrderToCash,
        }
    }

    /// The upper edges of its distribution's buckets (the last bucket is
    /// everything above): days for late receipts, percent for fill rate,
    /// hours for the lags.
    pub const fn bucket_edges(self) -> [f64; BUCKETS - 1] {
        match self {
            Kpi::FillRate => [25.0, 50.0, 80.0, 90.0, 95.0, 99.999],
            Kpi::LateReceipts => [-3.0, -1.0, 0.0, 1.0, 3.0, 7.0],
            Kpi::AllocationFailures => [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            Kpi::ShipmentLatency | Kpi::DeliveryLag | Kpi::PodLag => [1.0, 4.0, 8.0, 24.0, 48.0, 72.0],
        }
    }

    /// The buckets' names, for a distribution's table.
    pub fn bucket_labels(self) -> Vec<String> {
        match self {
            Kpi::FillRate => {
                return ["≤ 25 %", "25 to 50 %", "50 to 80 %", "80 to 90 %", "90 to 95 %", "95 to 100 %", "100 %"]
                    .map(str::to_owned)
                    .to_vec();
            }
            Kpi::AllocationFailures => return vec!["allocated".to_owned(), "failed".to_owned()],
            _ => {}
        }
        let edges = self.bucket_edges();
        let unit = match self {
            Kpi::FillRate => " %",
            Kpi::LateReceipts => " d",
            _ => " h",
        };
        let mut labels = vec![format!("≤ {}{unit}", edges[0])];
        for pair in edges.windows(2) {
            labels.push(format!("{} to {}{unit}", pair[0], pair[1]));
        }
        labels.push(format!("> {}{unit}", edges[BUCKETS - 2]));
        labels
    }

    pub(crate) fn bucket_of(self, value: f64) -> usize {
        self.bucket_edges().iter().position(|edge| value <= *edge).unwrap_or(BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests;
