-- What a queue view sorts and filters on: the effective SLA (the running
-- clock due first, or the frozen state) and a severity weight.
ALTER TABLE exceptions ADD COLUMN sla_due_at INTEGER;
ALTER TABLE exceptions ADD COLUMN sla_risk_at INTEGER;
ALTER TABLE exceptions ADD COLUMN sla_frozen TEXT;
-- The effective due instant, or a far-future sentinel when no clock runs.
ALTER TABLE exceptions ADD COLUMN sla_sort INTEGER NOT NULL DEFAULT 9007199254740991;
-- 0 critical, 1 high, 2 medium, 3 low.
ALTER TABLE exceptions ADD COLUMN severity_order INTEGER NOT NULL DEFAULT 3;

UPDATE exceptions SET severity_order = CASE severity
    WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END;

UPDATE exceptions SET
    sla_due_at = CASE
        WHEN ack_frozen IS NULL AND ack_due_at IS NOT NULL
             AND (resolve_frozen IS NOT NULL OR resolve_due_at IS NULL OR ack_due_at <= resolve_due_at) THEN ack_due_at
        WHEN resolve_frozen IS NULL THEN resolve_due_at
        ELSE NULL END,
    sla_risk_at = CASE
        WHEN ack_frozen IS NULL AND ack_due_at IS NOT NULL
             AND (resolve_frozen IS NOT NULL OR resolve_due_at IS NULL OR ack_due_at <= resolve_due_at) THEN ack_risk_at
        WHEN resolve_frozen IS NULL THEN resolve_risk_at
        ELSE NULL END,
    sla_frozen = CASE
        WHEN (ack_frozen IS NULL AND ack_due_at IS NOT NULL) OR (resolve_frozen IS NULL AND resolve_due_at IS NOT NULL) THEN NULL
        ELSE resolve_frozen END;

UPDATE exceptions SET sla_sort = COALESCE(sla_due_at, 9007199254740991);

DROP INDEX exceptions_resolve_due;

CREATE INDEX exceptions_open_due ON exceptions (sla_sort, id)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting');
CREATE INDEX exceptions_open_queue_due ON exceptions (queue, sla_sort, id)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting');
CREATE INDEX exceptions_open_severity ON exceptions (severity_order, sla_sort, id)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting');
CREATE INDEX exceptions_open_queue_severity ON exceptions (queue, severity_order, sla_sort, id)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting');
CREATE INDEX exceptions_created_id ON exceptions (created_at, id);
CREATE INDEX exceptions_queue_created ON exceptions (queue, created_at, id);
CREATE INDEX exceptions_assignee ON exceptions (assignee, sla_sort, id) WHERE assignee IS NOT NULL;

-- Views people saved: for themselves (owner) or for a team.
CREATE TABLE saved_views (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    owner       INTEGER REFERENCES users (id),
    team        TEXT,
    query       TEXT    NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    CHECK ((owner IS NULL) <> (team IS NULL))
);

CREATE UNIQUE INDEX saved_views_owner_name ON saved_views (owner, name) WHERE owner IS NOT NULL;
CREATE UNIQUE INDEX saved_views_team_name ON saved_views (team, name) WHERE team IS NOT NULL;

-- Bulk actions, run in the background item by item; a restart resumes them.
CREATE TABLE bulk_jobs (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    action       TEXT    NOT NULL,
    total        INTEGER NOT NULL,
    done         INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
);

CREATE TABLE bulk_job_items (
    job_id        INTEGER NOT NULL REFERENCES bulk_jobs (id),
    exception_id  INTEGER NOT NULL,
    outcome       TEXT CHECK (outcome IN ('done', 'skipped', 'refused', 'failed')),
    message       TEXT,
    PRIMARY KEY (job_id, exception_id)
);
