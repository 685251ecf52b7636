//! The gauges `/metrics` reads when scraped: open exceptions by queue and
//! SLA state (from the board's index), circuit breakers, and the ingest
//! writer's queue.

use std::collections::BTreeMap;

use crossdock::replay::Breaker;

use super::Services;
use crate::metrics as m;
use crate::store;

impl Services {
    /// Sets the gauges to what the database and the writer hold now.
    pub async fn measure(&self) -> anyhow::Result<()> {
        let mut open: BTreeMap<(String, &'static str), i64> = BTreeMap::new();
        for key in self.configuration().queues.keys() {
            for state in ["on_track", "at_risk", "breached", "paused", "none"] {
                open.insert((key.to_string(), state), 0);
            }
        }
        for t in self.open_tallies(self.now()).await? {
            let none = t.open - t.on_track - t.at_risk - t.breached - t.paused;
            let states = [
                ("on_track", t.on_track),
                ("at_risk", t.at_risk),
                ("breached", t.breached),
                ("paused", t.paused),
                ("none", none),
            ];
            for (state, n) in states {
                *open.entry((t.queue.clone(), state)).or_default() += n;
            }
        }
        for ((queue, state), n) in open {
            metrics::gauge!(m::OPEN_EXCEPTIONS, "queue" => queue, "sla_state" => state).set(n as f64);
        }
        for c in store::connectors::connectors(&self.pool).await? {
            let open = !matches!(c.breaker, Breaker::Closed { .. });
            metrics::gauge!(m::BREAKER_OPEN, "connector" => c.spec.name.clone()).set(if open { 1.0 } else { 0.0 });
        }
        metrics::gauge!(m::WRITER_QUEUE).set(self.writer.depth() as f64);
        Ok(())
    }
}
