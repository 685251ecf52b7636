//! What each milestone tells the KPIs (signals), the state of each thing
//! measured, and what that state contributes to one day of one KPI.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::Kpi;
use crate::event::{AckLineStatus, Body, BusinessDate, Event, EventType, MilestoneKind};
use crate::{ExceptionKind, RefKind};

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

/// What one allocation attempt adds, on its day in `zone`.
pub fn allocation(site: Option<&str>, at: DateTime<Utc>, zone: Tz, failed: bool) -> Contribution {
    let site = site.unwrap_or(NO_SITE);
    contribution(Kpi::AllocationFailures, site, "", local_day(at, zone), 0.0, 0.0, failed)
}
