-- Exceptions: units of work in a queue.
-- Times are integer epoch milliseconds (UTC); JSON is kept as text.
CREATE TABLE exceptions (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('new', 'acknowledged', 'in_progress', 'waiting', 'resolved', 'dismissed')),
    severity    TEXT    NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    site        TEXT    NOT NULL,
    queue       TEXT    NOT NULL,
    summary     TEXT    NOT NULL,
    refs        TEXT    NOT NULL DEFAULT '{}',
    payload     TEXT    NOT NULL DEFAULT '{}',
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE INDEX exceptions_created ON exceptions (created_at DESC, id DESC);
CREATE INDEX exceptions_queue_status ON exceptions (queue, status);

-- One row per business key of an exception, for search by PO, order, item...
CREATE TABLE exception_refs (
    exception_id INTEGER NOT NULL REFERENCES exceptions (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    PRIMARY KEY (exception_id, kind)
);

CREATE INDEX exception_refs_value ON exception_refs (value);

-- Append-only record of every change: who, when, what, before, after, why.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    entity     TEXT    NOT NULL,
    entity_id  TEXT    NOT NULL,
    before     TEXT,
    after      TEXT,
    reason     TEXT
);

CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
