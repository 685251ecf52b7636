-- Notification channels: where notifications go beyond the console. The
-- spec is the channel as an admin set it (JSON); the secret signs JSON
-- webhook messages (sealed, like connector secrets).
CREATE TABLE notification_channels (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    spec        TEXT    NOT NULL,
    secret      TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE UNIQUE INDEX notification_channels_name ON notification_channels (name) WHERE deleted_at IS NULL;

-- Which levels of their notifications each person has sent outward (the
-- levels' bits: 1 at risk, 2 breached, 4 not acknowledged).
ALTER TABLE users ADD COLUMN outward_levels INTEGER NOT NULL DEFAULT 0;

-- One message to one channel: written in the transaction of the step that
-- caused it (an outbox), delivered by a worker under a lease, retried under
-- the channel's retry policy. `level` is NULL for an admin's test message.
CREATE TABLE notification_deliveries (
    id               INTEGER PRIMARY KEY,
    channel_id       INTEGER NOT NULL REFERENCES notification_channels (id),
    exception_id     INTEGER REFERENCES exceptions (id),
    level            TEXT    CHECK (level IN ('at_risk', 'breached', 'unacknowledged')),
    body             TEXT    NOT NULL,
    recipients       INTEGER NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_token      TEXT,
    lease_until      INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at, id)
    WHERE state IN ('pending', 'running');
CREATE INDEX notification_deliveries_channel ON notification_deliveries (channel_id, id);

CREATE TABLE notification_attempts (
    delivery_id    INTEGER NOT NULL REFERENCES notification_deliveries (id),
    attempt        INTEGER NOT NULL,
    started_at     INTEGER NOT NULL,
    latency_ms     INTEGER NOT NULL,
    outcome        TEXT    NOT NULL,
    http_status    INTEGER,
    response_head  TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
