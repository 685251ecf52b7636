-- How a person likes their queue list: one line per exception (compact) or
-- roomier rows (comfortable).
ALTER TABLE users ADD COLUMN density TEXT NOT NULL DEFAULT 'compact' CHECK (density IN ('compact', 'comfortable'));

-- A deleted connector stays as a tombstone, so the replays it delivered keep
-- their history; its name and target are freed for a new one.
ALTER TABLE connectors ADD COLUMN deleted_at INTEGER;
