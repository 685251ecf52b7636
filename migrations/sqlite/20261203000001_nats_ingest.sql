-- Ingest from NATS JetStream: the subject pattern each source's messages
-- are published on, and the messages that could never be accepted.
ALTER TABLE sources ADD COLUMN nats_subject TEXT;

CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    -- The source the subject belongs to; NULL when no source takes it.
    source_id   INTEGER REFERENCES sources (id),
    subject     TEXT    NOT NULL,
    -- The message's sequence number in its stream.
    stream_seq  INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    -- The message's body as received (its first 64 KiB; the dead-letter
    -- subject carries it whole).
    body        TEXT    NOT NULL
);
CREATE INDEX dead_letters_of_source ON dead_letters (source_id, id);
-- A message delivered again after it was set aside (a crash before its
-- termination reached the server) is kept once.
CREATE UNIQUE INDEX dead_letters_once ON dead_letters (subject, stream_seq);
