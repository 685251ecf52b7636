-- Escalations and notifications.

-- The levels that fired on each exception, as bits (1 at risk, 2 breached,
-- 4 not acknowledged), so the sweep's indexes hold only what may still fire.
-- Levels passed before this version count as fired: an upgrade does not
-- send a flood of old news.
ALTER TABLE exceptions ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;
UPDATE exceptions SET escalated =
      (CASE WHEN sla_risk_at IS NOT NULL AND sla_risk_at <= CAST(strftime('%s', 'now') AS INTEGER) * 1000 THEN 1 ELSE 0 END)
    | (CASE WHEN sla_due_at IS NOT NULL AND sla_due_at <= CAST(strftime('%s', 'now') AS INTEGER) * 1000 THEN 2 ELSE 0 END)
    | (CASE WHEN status <> 'new' THEN 4 ELSE 0 END)
WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting');

CREATE INDEX exceptions_escalate_risk ON exceptions (sla_risk_at, id)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting') AND (escalated & 1) = 0;
CREATE INDEX exceptions_escalate_breach ON exceptions (sla_sort, id)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting') AND (escalated & 2) = 0;
CREATE INDEX exceptions_escalate_unacknowledged ON exceptions (queue, created_at, id)
    WHERE status = 'new' AND (escalated & 4) = 0;

-- Each step that fired: once per exception and level, whatever instance
-- swept.
CREATE TABLE escalation_steps (
    exception_id  INTEGER NOT NULL REFERENCES exceptions (id),
    level         TEXT    NOT NULL CHECK (level IN ('at_risk', 'breached', 'unacknowledged')),
    fired_at      INTEGER NOT NULL,
    PRIMARY KEY (exception_id, level)
);

-- Singleton background sweeps and the lease one instance holds on each.
CREATE TABLE sweep_leases (
    name         TEXT PRIMARY KEY,
    lease_token  TEXT,
    lease_until  INTEGER
);
INSERT INTO sweep_leases (name) VALUES ('escalation');

-- What people are told in the console, each marked read on its own.
CREATE TABLE notifications (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    exception_id  INTEGER REFERENCES exceptions (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('at_risk', 'breached', 'unacknowledged')),
    title         TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    read_at       INTEGER
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, id) WHERE read_at IS NULL;
