-- The audit trail as a hash chain: each record carries the SHA-256 of its
-- canonical form and the hash of the record before it (docs/audit.md).
-- Records written before this version are sealed at start-up, once.
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- Still append-only: the one change allowed is sealing a record not yet
-- sealed, leaving everything it says as it was.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.hash IS NOT NULL
    OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.actor IS NOT OLD.actor
    OR NEW.action IS NOT OLD.action OR NEW.entity IS NOT OLD.entity OR NEW.entity_id IS NOT OLD.entity_id
    OR NEW.before IS NOT OLD.before OR NEW.after IS NOT OLD.after OR NEW.reason IS NOT OLD.reason
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- The auditor console's filters, each read newest or oldest first.
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_at ON audit_log (at, id);

-- Each walk over the chain: how far it verified, or where it broke.
CREATE TABLE audit_checks (
    id             INTEGER PRIMARY KEY,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER NOT NULL,
    checked        INTEGER NOT NULL,
    verified_seq   INTEGER,
    verified_hash  TEXT,
    broken         TEXT,
    -- The admin who asked for it; NULL for the background check.
    requested_by   TEXT
);
