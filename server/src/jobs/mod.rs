//! Background work: workers that claim leased rows (replays, bulk actions)
//! and run them. Each worker is supervised: one that fails is logged and
//! started again, so a bad row cannot stop the work for good.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::services::Services;

/// How often an idle worker looks for work it was not woken for.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// How long a restarted worker waits first, so a failing loop cannot spin.
const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// The kinds of leased background work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Replays,
    BulkActions,
    /// Messages to notification channels.
    Deliveries,
    /// The lineage sweep: expected milestones and contradictions.
    Lineage,
    /// The escalation sweep: SLA at risk, breached, not acknowledged.
    Escalation,
    /// A walk over the audit trail's hash chain.
    AuditCheck,
    /// Taking up a configuration saved through another instance.
    Configuration,
    /// Keeping the word index quick to read.
    WordIndex,
}

/// How often an instance looks for a configuration saved elsewhere.
const CONFIGURATION_EVERY: Duration = Duration::from_secs(1);
/// How often the word index is merged into one piece (from start-up on).
const WORD_INDEX_EVERY: Duration = Duration::from_secs(3600);

/// How many workers of each kind run.
#[derive(Debug, Clone, Copy)]
pub struct Workers {
    pub replays: usize,
    pub bulk_actions: usize,
    /// Workers delivering messages to notification channels.
    pub deliveries: usize,
    /// Seconds between lineage sweeps; none: no sweep (tests drive it).
    pub lineage_every: Option<Duration>,
    /// Seconds between escalation sweeps; none: no sweep (tests drive it).
    pub escalation_every: Option<Duration>,
    /// Time between two checks of the audit chain; none: no check.
    pub audit_check_every: Option<Duration>,
}

impl Kind {
    /// Does one unit of work; whether there was any.
    async fn step(self, services: &Services) -> anyhow::Result<bool> {
        let now = services.now();
        Ok(match self {
            Kind::Replays => services.try_execute_replay(now).await?.is_some(),
            Kind::BulkActions => services.try_execute_bulk(now).await?.is_some(),
            Kind::Deliveries => services.try_deliver_notification(now).await?.is_some(),
            // Once per pause: the sweep does all there is each time.
            Kind::Lineage => {
                services.sweep_lineage(now).await?;
                false
            }
            Kind::Escalation => {
                services.sweep_escalations(now).await?;
                false
            }
            Kind::AuditCheck => {
                services.check_audit_chain(None).await?;
                false
            }
            Kind::Configuration => {
                services.follow_configuration().await?;
                false
            }
            Kind::WordIndex => {
                services.tidy_word_index().await?;
                false
            }
        })
    }

    /// Whether the kind is a sweep that keeps its own pace.
    const fn is_sweep(self) -> bool {
        matches!(self, Kind::Lineage | Kind::Escalation | Kind::AuditCheck | Kind::Configuration | Kind::WordIndex)
    }
}

/// The running workers, and the kind of work each does.
struct Supervisor {
    set: JoinSet<()>,
    kinds: HashMap<tokio::task::Id, Kind>,
    services: Services,
    stop: watch::Receiver<bool>,
    workers: Workers,
}

impl Supervisor {
    fn start(&mut self, kind: Kind, pause: Duration) {
        let every = match kind {
            Kind::Lineage => self.workers.lineage_every,
            Kind::Escalation => self.workers.escalation_every,
            Kind::AuditCheck => self.workers.audit_check_every,
            Kind::Configuration => Some(CONFIGURATION_EVERY),
            Kind::WordIndex => Some(WORD_INDEX_EVERY),
            Kind::Replays | Kind::BulkActions | Kind::Deliveries => None,
        }
        .unwrap_or(IDLE_POLL);
        let (services, stop) = (self.services.clone(), self.stop.clone());
        let handle = self.set.spawn(async move {
            tokio::time::sleep(pause).await;
            work(kind, services, stop, every).await;
        });
        self.kinds.insert(handle.id(), kind);
    }
}

/// Runs the workers until `stop` says so, then waits for them to finish
/// what they hold.
pub async fn run(services: Services, workers: Workers, stop: watch::Receiver<bool>) {
    let mut supervisor = Supervisor { set: JoinSet::new(), kinds: HashMap::new(), services, stop, workers };
    let kinds = [
        (Kind::Replays, workers.replays),
        (Kind::BulkActions, workers.bulk_actions),
        (Kind::Deliveries, workers.deliveries),
        (Kind::Lineage, usize::from(workers.lineage_every.is_some())),
        (Kind::Escalation, usize::from(workers.escalation_every.is_some())),
        (Kind::AuditCheck, usize::from(workers.audit_check_every.is_some())),
        (Kind::Configuration, 1),
        (Kind::WordIndex, 1),
    ];
    for (kind, count) in kinds {
        for _ in 0..count {
            supervisor.start(kind, Duration::ZERO);
        }
    }
    while let Some(ended) = supervisor.set.join_next_with_id().await {
        let Err(err) = ended else { continue };
        let kind = supervisor.kinds.remove(&err.id());
        match kind {
            Some(kind) if err.is_panic() && !*supervisor.stop.borrow() => {
                tracing::error!(?kind, "a background worker panicked; starting it again");
                supervisor.start(kind, RESTART_PAUSE);
            }
            _ => tracing::error!(?kind, error = %err, "a background worker ended abnormally"),
        }
    }
}

/// One worker: claims and runs work until told to stop.
async fn work(kind: Kind, services: Services, mut stop: watch::Receiver<bool>, every: Duration) {
    loop {
        if *stop.borrow() {
            return;
        }
        match kind.step(&services).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(err) => tracing::error!(?kind, error = format!("{err:#}"), "a background step failed"),
        }
        if kind.is_sweep() {
            // A sweep keeps its own pace; new work waits for the next one.
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep(every) => {}
            }
            continue;
        }
        tokio::select! {
            _ = stop.changed() => {}
            () = services.work_queued() => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}
