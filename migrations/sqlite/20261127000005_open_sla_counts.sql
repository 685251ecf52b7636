-- Covers the counts beside a queue view (per queue, per SLA state) without
-- reading the rows themselves.
CREATE INDEX exceptions_open_sla_counts ON exceptions (queue, sla_sort, sla_risk_at, sla_frozen, status)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting');
