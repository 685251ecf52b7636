-- The SLA board: when each exception was acknowledged and closed, and the
-- business time each took, so the board can count today's work and the
-- week's medians without reading status histories.
ALTER TABLE exceptions ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE exceptions ADD COLUMN ack_seconds INTEGER;
ALTER TABLE exceptions ADD COLUMN closed_at INTEGER;
ALTER TABLE exceptions ADD COLUMN resolve_seconds INTEGER;

-- Earlier work: the instants are in the status history; the business time
-- it took is not known and stays empty (the medians leave it out).
UPDATE exceptions SET acknowledged_at = (
    SELECT MIN(h.at) FROM exception_status_history h WHERE h.exception_id = exceptions.id AND h.status <> 'new'
);
UPDATE exceptions SET closed_at = (
    SELECT MAX(h.at) FROM exception_status_history h WHERE h.exception_id = exceptions.id
) WHERE status IN ('resolved', 'dismissed');

-- Open exceptions per queue, site and assignee by SLA state, read from the
-- index alone (replaces the per-queue one).
DROP INDEX exceptions_open_sla_counts;
CREATE INDEX exceptions_open_board ON exceptions (queue, site, assignee, sla_sort, sla_risk_at, sla_frozen, status)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting');
-- Opened, acknowledged and closed since an instant, with what the board groups by.
DROP INDEX exceptions_created;
CREATE INDEX exceptions_opened ON exceptions (created_at, queue, site, assignee);
CREATE INDEX exceptions_acknowledged ON exceptions (acknowledged_at, queue, site, assignee, ack_seconds)
    WHERE acknowledged_at IS NOT NULL;
CREATE INDEX exceptions_closed ON exceptions (closed_at, queue, site, assignee, status, resolve_seconds)
    WHERE closed_at IS NOT NULL;

-- Read-only board links for screens on the floor: only the token's hash is kept.
CREATE TABLE board_links (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL UNIQUE,
    grouping    TEXT    NOT NULL CHECK (grouping IN ('queue', 'site', 'assignee')),
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    revoked_by  TEXT
);
