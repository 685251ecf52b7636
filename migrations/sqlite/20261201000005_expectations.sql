-- Milestones expected after others, one per transaction and expected
-- milestone: open until it arrives (met) or its time runs out (overdue, with
-- the exception filed for it; settled once that exception is resolved
-- because the milestone came after all).
CREATE TABLE expectations (
    id             INTEGER PRIMARY KEY,
    transaction_id INTEGER NOT NULL REFERENCES transactions (id),
    after          TEXT    NOT NULL,
    expect         TEXT    NOT NULL,
    since          INTEGER NOT NULL,
    due_at         INTEGER NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('open', 'met', 'overdue')),
    exception_id   INTEGER REFERENCES exceptions (id),
    met_at         INTEGER,
    settled        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (transaction_id, expect)
);
CREATE INDEX expectations_due ON expectations (state, due_at);
CREATE INDEX expectations_unsettled ON expectations (settled, state) WHERE met_at IS NOT NULL;

-- What the sweep found and Crossdock files as exceptions through ingest: kept
-- until filed, so a restart in between loses nothing (the event ids make a
-- second filing a duplicate).
CREATE TABLE lineage_findings (
    id             INTEGER PRIMARY KEY,
    event          TEXT    NOT NULL,
    expectation_id INTEGER REFERENCES expectations (id),
    filed_at       INTEGER
);
CREATE INDEX lineage_findings_unfiled ON lineage_findings (id) WHERE filed_at IS NULL;

-- The sweep's place in the event log, and its lease: one instance sweeps at
-- a time. It starts after the events already logged.
CREATE TABLE lineage_sweep (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    last_event  INTEGER NOT NULL,
    lease_token TEXT,
    lease_until INTEGER
);
INSERT INTO lineage_sweep (id, last_event) SELECT 1, COALESCE(MAX(id), 0) FROM events;

-- Crossdock's own source, for the exceptions it raises; it has no key.
INSERT INTO sources (name, prefixes, rate_per_sec, burst, created_at)
VALUES ('crossdock', '["crossdock"]', 1000000, 1000000, 0)
ON CONFLICT (name) DO NOTHING;
