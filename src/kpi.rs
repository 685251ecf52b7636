//! Business KPIs drawn from the milestones: fill rate, late receipts,
//! allocation failures, shipment latency and delivery confirmation lag.
//!
//! Each milestone is read once into a [`Signal`]. Signals change the state of
//! the thing they are about (a PO line, an order, a shipment); each state
//! yields the [`Contribution`]s it makes to one day of one KPI at one site.
//! The store keeps daily totals up to date by taking away what a state
//! contributed before a signal and adding what it contributes after, so a
//! report sums a few rows per day rather than scanning events.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::event::{AckLineStatus, Body, BusinessDate, Event, EventType, MilestoneKind};
use crate::{ExceptionKind, FieldProblem, RefKind, named_enum};

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

    fn bucket_of(self, value: f64) -> usize {
        self.bucket_edges().iter().position(|edge| value <= *edge).unwrap_or(BUCKETS - 1)
    }
}

/// What one thing adds to one day of one KPI at one site (each counts one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub kpi: Kpi,
    pub site: String,
    /// The supplier, or empty for the totals of every supplier.
    pub supplier: String,
    pub day: NaiveDate,
    /// The measure: received quantity (fill rate), days late, hours.
    pub num: f64,
    /// Ordered quantity (fill rate); 0 otherwise.
    pub den: f64,
    /// Short, late, or failed.
    pub hit: bool,
    pub bucket: usize,
}

/// The site a thing without one is counted at.
pub const NO_SITE: &str = "(no site)";

fn contribution(kpi: Kpi, site: &str, supplier: &str, day: NaiveDate, num: f64, den: f64, hit: bool) -> Contribution {
    let value = if kpi == Kpi::FillRate && den > 0.0 { num / den * 100.0 } else { num };
    let bucket = if kpi == Kpi::AllocationFailures { usize::from(hit) } else { kpi.bucket_of(value) };
    Contribution { kpi, site: site.to_owned(), supplier: supplier.to_owned(), day, num, den, hit, bucket }
}

/// Counted for every supplier and, when known, for its own.
fn per_supplier(c: Contribution, supplier: Option<&str>) -> Vec<Contribution> {
    match supplier.filter(|s| !s.is_empty()) {
        Some(s) => {
            let own = Contribution { supplier: s.to_owned(), ..c.clone() };
            vec![c, own]
        }
        None => vec![c],
    }
}

fn local_day(at: DateTime<Utc>, zone: Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

fn hours(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds().max(0) as f64 / 3_600_000.0
}

/// A PO line as the KPIs follow it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoLineState {
    pub site: Option<String>,
    pub supplier: Option<String>,
    pub ordered: Option<f64>,
    pub promised: Option<BusinessDate>,
    pub received: f64,
    pub first_receipt_at: Option<DateTime<Utc>>,
}

impl PoLineState {
    /// What it adds to fill rate and late receipts, counted on the day of its
    /// first receipt in `zone` (its site's).
    pub fn contributions(&self, zone: Tz) -> Vec<Contribution> {
        let Some(received_at) = self.first_receipt_at else { return Vec::new() };
        let site = self.site.as_deref().unwrap_or(NO_SITE);
        let day = local_day(received_at, zone);
        let supplier = self.supplier.as_deref();
        let mut out = Vec::new();
        if let Some(ordered) = self.ordered.filter(|q| *q > 0.0) {
            let filled = self.received.min(ordered);
            out.extend(per_supplier(
                contribution(Kpi::FillRate, site, "", day, filled, ordered, filled < ordered),
                supplier,
            ));
        }
        if let Some(promised) = self.promised {
            let late_days = match promised {
                BusinessDate::Day(d) => (day - d).num_days() as f64,
                BusinessDate::Instant(t) => {
                    (received_at - t.with_timezone(&Utc)).num_milliseconds() as f64 / 86_400_000.0
                }
            };
            out.extend(per_supplier(
                contribution(Kpi::LateReceipts, site, "", day, late_days, 0.0, late_days > 0.0),
                supplier,
            ));
        }
        out
    }
}

/// A customer order as the KPIs follow it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderState {
    pub site: Option<String>,
    pub released_at: Option<DateTime<Utc>>,
    pub dispatched_at: Option<DateTime<Utc>>,
}

impl OrderState {
    /// Its shipment latency, counted on the day it was dispatched.
    pub fn contributions(&self, zone: Tz) -> Vec<Contribution> {
        match (self.released_at, self.dispatched_at) {
            (Some(released), Some(dispatched)) => {
                let site = self.site.as_deref().unwrap_or(NO_SITE);
                let h = hours(released, dispatched);
                vec![contribution(Kpi::ShipmentLatency, site, "", local_day(dispatched, zone), h, 0.0, false)]
            }
            _ => Vec::new(),
        }
    }
}

/// A shipment as the KPIs follow it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShipmentState {
    pub site: Option<String>,
    pub dispatched_at: Option<DateTime<Utc>>,
    /// When it was delivered, as the proof of delivery says.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the proof of delivery came (the milestone's time).
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl ShipmentState {
    /// Its delivery confirmation lag and proof-of-delivery lag, counted on
    /// the day the delivery was confirmed.
    pub fn contributions(&self, zone: Tz) -> Vec<Contribution> {
        let Some(confirmed) = self.confirmed_at else { return Vec::new() };
        let site = self.site.as_deref().unwrap_or(NO_SITE);
        let day = local_day(confirmed, zone);
        let mut out = Vec::new();
        if let Some(dispatched) = self.dispatched_at {
            out.push(contribution(Kpi::DeliveryLag, site, "", day, hours(dispatched, confirmed), 0.0, false));
        }
        if let Some(delivered) = self.delivered_at {
            out.push(contribution(Kpi::PodLag, site, "", day, hours(delivered, confirmed), 0.0, false));
        }
        out
    }
}

/// What a milestone (or an allocation failure) tells the KPIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Signal {
    /// `po.created`: ordered quantities per line.
    Ordered { po: String, site: Option<String>, supplier: String, lines: Vec<(u32, f64)> },
    /// `po.acknowledged`: promised dates per line (rejected lines promise nothing).
    Promised { po: String, site: Option<String>, supplier: String, lines: Vec<(u32, BusinessDate)> },
    /// `receipt.posted` of a PO: received quantities per line.
    Received { po: String, site: Option<String>, at: DateTime<Utc>, lines: Vec<(u32, f64)> },
    /// `order.released`.
    Released { order: String, site: Option<String>, at: DateTime<Utc> },
    /// `order.allocated`, or `exception.allocation_failed` (`failed`).
    Allocation { site: Option<String>, at: DateTime<Utc>, failed: bool },
    /// `shipment.dispatched` with the orders it carries.
    Dispatched { shipment: String, site: Option<String>, at: DateTime<Utc>, orders: Vec<String> },
    /// `delivery.confirmed`: when it came, and when the delivery was.
    Confirmed { shipment: String, site: Option<String>, at: DateTime<Utc>, delivered_at: DateTime<Utc> },
}

impl Signal {
    /// What an event tells the KPIs, if anything.
    pub fn of(event: &Event) -> Option<Self> {
        let site = event.data.site.clone();
        let at = event.time.with_timezone(&Utc);
        let po = || event.business_refs().get(RefKind::Po).map(str::to_owned);
        match (&event.event_type, &event.data.body) {
            (EventType::Milestone(MilestoneKind::PoCreated), Body::PoCreated { supplier, lines }) => {
                Some(Signal::Ordered {
                    po: po()?,
                    site,
                    supplier: supplier.clone(),
                    lines: lines.iter().map(|l| (l.line, l.qty)).collect(),
                })
            }
            (EventType::Milestone(MilestoneKind::PoAcknowledged), Body::PoAcknowledged { supplier, lines }) => {
                Some(Signal::Promised {
                    po: po()?,
                    site,
                    supplier: supplier.clone(),
                    lines: lines
                        .iter()
                        .filter(|l| l.status != AckLineStatus::Rejected)
                        .map(|l| (l.line, l.promised_date))
                        .collect(),
                })
            }
            (EventType::Milestone(MilestoneKind::ReceiptPosted), Body::ReceiptPosted { lines, .. }) => {
                Some(Signal::Received {
                    po: po()?,
                    site,
                    at,
                    lines: lines.iter().map(|l| (l.line, l.qty_received)).collect(),
                })
            }
            (EventType::Milestone(MilestoneKind::OrderReleased), Body::OrderReleased { order, .. }) => {
                Some(Signal::Released { order: order.clone(), site, at })
            }
            (EventType::Milestone(MilestoneKind::OrderAllocated), Body::OrderAllocated { .. }) => {
                Some(Signal::Allocation { site, at, failed: false })
            }
            (EventType::Exception(ExceptionKind::AllocationFailed), Body::AllocationFailed { .. }) => {
                Some(Signal::Allocation { site, at, failed: true })
            }
            (
                EventType::Milestone(MilestoneKind::ShipmentDispatched),
                Body::ShipmentDispatched { shipment, orders, .. },
            ) => Some(Signal::Dispatched { shipment: shipment.clone(), site, at, orders: orders.clone() }),
            (
                EventType::Milestone(MilestoneKind::DeliveryConfirmed),
                Body::DeliveryConfirmed { shipment, delivered_at, .. },
            ) => Some(Signal::Confirmed {
                shipment: shipment.clone(),
                site,
                at,
                delivered_at: delivered_at.with_timezone(&Utc),
            }),
            _ => None,
        }
    }

    /// The site it names, if any.
    pub fn site(&self) -> Option<&str> {
        match self {
            Signal::Ordered { site, .. }
            | Signal::Promised { site, .. }
            | Signal::Received { site, .. }
            | Signal::Released { site, .. }
            | Signal::Allocation { site, .. }
            | Signal::Dispatched { site, .. }
            | Signal::Confirmed { site, .. } => site.as_deref(),
        }
    }
}

impl PoLineState {
    /// Takes in what a signal says of line `line`.
    pub fn apply(&mut self, signal: &Signal, line: u32) {
        let fill = |slot: &mut Option<String>, with: &Option<String>| {
            if slot.is_none() {
                slot.clone_from(with);
            }
        };
        match signal {
            Signal::Ordered { site, supplier, lines, .. } => {
                fill(&mut self.site, site);
                fill(&mut self.supplier, &Some(supplier.clone()));
                if let Some((_, qty)) = lines.iter().find(|(l, _)| *l == line) {
                    self.ordered = Some(*qty);
                }
            }
            Signal::Promised { site, supplier, lines, .. } => {
                fill(&mut self.site, site);
                fill(&mut self.supplier, &Some(supplier.clone()));
                if let Some((_, date)) = lines.iter().find(|(l, _)| *l == line) {
                    self.promised = Some(*date);
                }
            }
            Signal::Received { site, at, lines, .. } => {
                fill(&mut self.site, site);
                let qty: f64 = lines.iter().filter(|(l, _)| *l == line).map(|(_, q)| q).sum();
                self.received += qty;
                self.first_receipt_at = Some(self.first_receipt_at.map_or(*at, |t| t.min(*at)));
            }
            _ => {}
        }
    }
}

impl OrderState {
    /// Takes in what a signal says of this order.
    pub fn apply(&mut self, signal: &Signal) {
        match signal {
            Signal::Released { site, at, .. } => {
                if self.site.is_none() {
                    self.site.clone_from(site);
                }
                self.released_at = Some(self.released_at.map_or(*at, |t| t.min(*at)));
            }
            Signal::Dispatched { site, at, .. } => {
                if self.site.is_none() {
                    self.site.clone_from(site);
                }
                self.dispatched_at = Some(self.dispatched_at.map_or(*at, |t| t.min(*at)));
            }
            _ => {}
        }
    }
}

impl ShipmentState {
    /// Takes in what a signal says of this shipment.
    pub fn apply(&mut self, signal: &Signal) {
        match signal {
            Signal::Dispatched { site, at, .. } => {
                if self.site.is_none() {
                    self.site.clone_from(site);
                }
                self.dispatched_at = Some(self.dispatched_at.map_or(*at, |t| t.min(*at)));
            }
            Signal::Confirmed { site, at, delivered_at, .. } => {
                if self.site.is_none() {
                    self.site.clone_from(site);
                }
                self.confirmed_at = Some(self.confirmed_at.map_or(*at, |t| t.min(*at)));
                self.delivered_at = Some(*delivered_at);
            }
            _ => {}
        }
    }
}

/// Whether a week or a day is each point of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    #[default]
    Day,
    /// Weeks starting on Monday.
    Week,
}

impl Period {
    /// The first day of the period `day` falls in.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => day,
            Period::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        }
    }
}

/// What a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(default)]
    pub period: Period,
    /// One site, or every site.
    #[serde(default)]
    pub site: Option<String>,
    /// One supplier (fill rate and late receipts only), or every supplier.
    #[serde(default)]
    pub supplier: Option<String>,
}

impl KpiQuery {
    /// The longest range a report covers.
    pub const MAX_DAYS: i64 = 400;

    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        if self.to < self.from {
            problems.push(FieldProblem { pointer: "/to".into(), message: "must not be before the first day".into() });
        } else if (self.to - self.from).num_days() >= Self::MAX_DAYS {
            problems.push(FieldProblem {
                pointer: "/to".into(),
                message: format!("a report covers at most {} days", Self::MAX_DAYS),
            });
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

/// One day's totals of one KPI at one site, as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub n: i64,
    pub num: f64,
    pub den: f64,
    pub hits: i64,
    pub buckets: [i64; BUCKETS],
}

impl Totals {
    pub fn add(&mut self, other: &Totals) {
        self.n += other.n;
        self.num += other.num;
        self.den += other.den;
        self.hits += other.hits;
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a += b;
        }
    }

    /// The KPI's value over these totals; none when nothing was counted.
    pub fn value(&self, kpi: Kpi) -> Option<f64> {
        if self.n <= 0 {
            return None;
        }
        Some(match kpi {
            Kpi::FillRate if self.den > 0.0 => self.num / self.den * 100.0,
            Kpi::FillRate => return None,
            Kpi::LateReceipts | Kpi::AllocationFailures => self.hits as f64 / self.n as f64 * 100.0,
            Kpi::ShipmentLatency | Kpi::DeliveryLag | Kpi::PodLag => self.num / self.n as f64,
        })
    }
}

/// The targets an admin sets: a KPI past its target is marked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiTargets {
    pub targets: BTreeMap<Kpi, f64>,
}

impl Default for KpiTargets {
    fn default() -> Self {
        Self::standard()
    }
}

impl KpiTargets {
    /// Fill rate at least 95 %, at most 10 % of lines late, 2 % of
    /// allocations failed, 24 h to dispatch, 72 h to deliver, 24 h to the POD.
    pub fn standard() -> Self {
        Self {
            targets: [
                (Kpi::FillRate, 95.0),
                (Kpi::LateReceipts, 10.0),
                (Kpi::AllocationFailures, 2.0),
                (Kpi::ShipmentLatency, 24.0),
                (Kpi::DeliveryLag, 72.0),
                (Kpi::PodLag, 24.0),
            ]
            .into(),
        }
    }

    pub fn problems(&self) -> Vec<FieldProblem> {
        self.targets
            .iter()
            .filter(|(kpi, value)| {
                let top = if kpi.unit() == Unit::Percent { 100.0 } else { 24.0 * 365.0 };
                !(value.is_finite() && **value >= 0.0 && **value <= top)
            })
            .map(|(kpi, _)| FieldProblem {
                pointer: format!("/targets/{kpi}"),
                message: match kpi.unit() {
                    Unit::Percent => "a percentage from 0 to 100".into(),
                    Unit::Hours => "a number of hours from 0 to a year".into(),
                },
            })
            .collect()
    }

    /// Whether `value` of `kpi` is past its target.
    pub fn missed(&self, kpi: Kpi, value: f64) -> bool {
        self.targets.get(&kpi).is_some_and(|t| if kpi.higher_is_better() { value < *t } else { value > *t })
    }
}

/// One point of a series: a period's value and how many it counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub period: NaiveDate,
    pub value: Option<f64>,
    pub n: i64,
    pub missed: bool,
}

/// One site's points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub site: String,
    pub points: Vec<Point>,
}

/// One KPI over the range: per site and period, overall, and its distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiSeries {
    pub kpi: Kpi,
    pub target: Option<f64>,
    pub overall: Option<f64>,
    pub overall_missed: bool,
    pub n: i64,
    pub series: Vec<Series>,
    pub distribution: [i64; BUCKETS],
}

/// The KPIs over a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiReport {
    pub query: KpiQuery,
    pub periods: Vec<NaiveDate>,
    pub kpis: Vec<KpiSeries>,
}

/// One stored row of daily totals.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyRow {
    pub kpi: Kpi,
    pub site: String,
    pub day: NaiveDate,
    pub totals: Totals,
}

/// Sums daily rows into the report's periods, per site, with targets.
pub fn report(query: &KpiQuery, rows: &[DailyRow], sites: &[String], targets: &KpiTargets) -> KpiReport {
    let mut periods = Vec::new();
    let mut day = query.period.start_of(query.from);
    while day <= query.to {
        periods.push(day);
        day = match query.period {
            Period::Day => day + Duration::days(1),
            Period::Week => day + Duration::days(7),
        };
    }
    let mut sites: Vec<String> = match &query.site {
        Some(s) => vec![s.clone()],
        None => sites.to_vec(),
    };
    for row in rows {
        if !sites.contains(&row.site) {
            sites.push(row.site.clone());
        }
    }
    let kpis = Kpi::ALL
        .iter()
        .filter(|k| query.supplier.is_none() || k.by_supplier())
        .map(|&kpi| {
            let mut per: BTreeMap<(&str, NaiveDate), Totals> = BTreeMap::new();
            let mut all = Totals::default();
            for row in rows.iter().filter(|r| r.kpi == kpi) {
                per.entry((row.site.as_str(), query.period.start_of(row.day))).or_default().add(&row.totals);
                all.add(&row.totals);
            }
            let series = sites
                .iter()
                .map(|site| Series {
                    site: site.clone(),
                    points: periods
                        .iter()
                        .map(|p| {
                            let t = per.get(&(site.as_str(), *p)).cloned().unwrap_or_default();
                            let value = t.value(kpi);
                            Point { period: *p, value, n: t.n, missed: value.is_some_and(|v| targets.missed(kpi, v)) }
                        })
                        .collect(),
                })
                .collect();
            let overall = all.value(kpi);
            KpiSeries {
                kpi,
                target: targets.targets.get(&kpi).copied(),
                overall,
                overall_missed: overall.is_some_and(|v| targets.missed(kpi, v)),
                n: all.n,
                series,
                distribution: all.buckets,
            }
        })
        .collect();
    KpiReport { query: query.clone(), periods, kpis }
}

#[cfg(test)]
mod tests;
