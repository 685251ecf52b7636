-- Retry policies, by name; queues may name one.
CREATE TABLE retry_policies (
    name        TEXT    PRIMARY KEY,
    spec        TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE queue_retry_policies (
    queue   TEXT PRIMARY KEY,
    policy  TEXT NOT NULL REFERENCES retry_policies (name)
);

-- Where failed messages of a system and operation are replayed to. The
-- secret is never shown again; the breaker is the circuit breaker's state.
CREATE TABLE connectors (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    system      TEXT    NOT NULL,
    operation   TEXT    NOT NULL,
    spec        TEXT    NOT NULL,
    secret      TEXT,
    breaker     TEXT    NOT NULL DEFAULT '{"state":"closed","failures":0}',
    updated_at  INTEGER NOT NULL,
    UNIQUE (system, operation)
);

-- Replays: durable jobs, claimed by a worker with a lease.
CREATE TABLE replay_jobs (
    id               INTEGER PRIMARY KEY,
    exception_id     INTEGER NOT NULL REFERENCES exceptions (id),
    connector_id     INTEGER NOT NULL REFERENCES connectors (id),
    payload          TEXT    NOT NULL,
    content_type     TEXT    NOT NULL DEFAULT 'application/json',
    payload_version  INTEGER NOT NULL,
    idempotency_key  TEXT    NOT NULL,
    traceparent      TEXT,
    policy           TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_token      TEXT,
    lease_until      INTEGER,
    requested_by     TEXT    NOT NULL,
    automatic        INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    last_error       TEXT
);

-- At most one replay under way per exception.
CREATE UNIQUE INDEX replay_jobs_active ON replay_jobs (exception_id) WHERE state IN ('pending', 'running');
CREATE INDEX replay_jobs_due ON replay_jobs (state, next_attempt_at);
CREATE INDEX replay_jobs_exception ON replay_jobs (exception_id, id);

CREATE TABLE replay_attempts (
    id             INTEGER PRIMARY KEY,
    job_id         INTEGER NOT NULL REFERENCES replay_jobs (id),
    attempt        INTEGER NOT NULL,
    started_at     INTEGER NOT NULL,
    latency_ms     INTEGER,
    outcome        TEXT    NOT NULL,
    http_status    INTEGER,
    response_head  TEXT,
    UNIQUE (job_id, attempt)
);

-- Replay state on the exception: scheduled, running, replayed or failed,
-- with a note for its owner and when the next attempt is due.
ALTER TABLE exceptions ADD COLUMN replay_state TEXT;
ALTER TABLE exceptions ADD COLUMN replay_note TEXT;
ALTER TABLE exceptions ADD COLUMN next_replay_at INTEGER;
-- Bumped when a person corrects the message before replaying it.
ALTER TABLE exceptions ADD COLUMN payload_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE exceptions ADD COLUMN corrected_payload TEXT;
