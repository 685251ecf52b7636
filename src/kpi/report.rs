//! Reports: daily totals summed into periods per site, with targets.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{BUCKETS, Kpi, Unit};
use crate::FieldProblem;

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
        for (pointer, value) in [("/site", &self.site), ("/supplier", &self.supplier)] {
            if value.as_deref().is_some_and(|v| v.chars().count() > 256 || !crate::text::is_one_line(v)) {
                problems.push(FieldProblem {
                    pointer: pointer.into(),
                    message: "at most 256 characters, without control characters".into(),
                });
            }
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
