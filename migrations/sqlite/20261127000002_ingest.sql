-- Configuration, versioned: every save of a site, SLA policy, queue or the
-- routing rule set adds a version; the newest version of each key is current,
-- and a NULL spec marks a key as removed. Exceptions keep the id of the SLA
-- policy version they started under.
CREATE TABLE config_versions (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('site', 'sla_policy', 'queue', 'routing')),
    key         TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    spec        TEXT,
    actor       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (kind, key, version)
);

-- Registered senders of events.
CREATE TABLE sources (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    -- Events' `source` attribute must start with this prefix.
    prefix          TEXT    NOT NULL,
    rate_per_sec    REAL    NOT NULL,
    burst           INTEGER NOT NULL,
    -- JSON array of Standard Webhooks secrets (`whsec_...`); empty: unsigned.
    signing_secrets TEXT    NOT NULL DEFAULT '[]',
    created_at      INTEGER NOT NULL,
    disabled_at     INTEGER
);

-- API keys, stored as SHA-256 hashes only.
CREATE TABLE source_keys (
    id          INTEGER PRIMARY KEY,
    source_id   INTEGER NOT NULL REFERENCES sources (id),
    key_hash    TEXT    NOT NULL UNIQUE,
    -- The first characters of the key, to tell keys apart.
    key_prefix  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    -- Set when the key was rotated: valid until then.
    expires_at  INTEGER,
    revoked_at  INTEGER
);

CREATE INDEX source_keys_source ON source_keys (source_id);

-- The event log: every accepted event, as received.
CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    source_id      INTEGER NOT NULL REFERENCES sources (id),
    source         TEXT    NOT NULL,
    event_id       TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    time           INTEGER NOT NULL,
    received_at    INTEGER NOT NULL,
    subject        TEXT,
    correlation_id TEXT,
    site           TEXT,
    exception_id   INTEGER,
    body           TEXT    NOT NULL,
    UNIQUE (source, event_id)
);

CREATE INDEX events_correlation ON events (correlation_id, time);
CREATE INDEX events_exception ON events (exception_id);

-- Business keys of events, to link transactions that share a key.
CREATE TABLE event_refs (
    event_id  INTEGER NOT NULL REFERENCES events (id),
    kind      TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    PRIMARY KEY (event_id, kind)
);

CREATE INDEX event_refs_value ON event_refs (kind, value);

ALTER TABLE exceptions ADD COLUMN fingerprint TEXT;
ALTER TABLE exceptions ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1;
ALTER TABLE exceptions ADD COLUMN last_seen_at INTEGER;
ALTER TABLE exceptions ADD COLUMN event_id INTEGER REFERENCES events (id);
ALTER TABLE exceptions ADD COLUMN source TEXT;
ALTER TABLE exceptions ADD COLUMN correlation_id TEXT;
ALTER TABLE exceptions ADD COLUMN assignee TEXT;
ALTER TABLE exceptions ADD COLUMN sla_policy_version INTEGER REFERENCES config_versions (id);
-- SLA snapshots: due and at-risk instants of both clocks, and the state a
-- clock is frozen in (paused, met, missed) or NULL while it runs.
ALTER TABLE exceptions ADD COLUMN ack_due_at INTEGER;
ALTER TABLE exceptions ADD COLUMN ack_risk_at INTEGER;
ALTER TABLE exceptions ADD COLUMN ack_frozen TEXT;
ALTER TABLE exceptions ADD COLUMN resolve_due_at INTEGER;
ALTER TABLE exceptions ADD COLUMN resolve_risk_at INTEGER;
ALTER TABLE exceptions ADD COLUMN resolve_frozen TEXT;

-- One open exception per problem: a repeat is counted as an occurrence.
CREATE UNIQUE INDEX exceptions_open_fingerprint ON exceptions (fingerprint)
    WHERE fingerprint IS NOT NULL AND status NOT IN ('resolved', 'dismissed');

CREATE INDEX exceptions_resolve_due ON exceptions (queue, resolve_due_at, id);

-- Every status an exception has been in, for its SLA clocks and timeline.
CREATE TABLE exception_status_history (
    id            INTEGER PRIMARY KEY,
    exception_id  INTEGER NOT NULL REFERENCES exceptions (id),
    at            INTEGER NOT NULL,
    status        TEXT    NOT NULL,
    actor         TEXT    NOT NULL
);

CREATE INDEX exception_status_history_exception ON exception_status_history (exception_id, at);
