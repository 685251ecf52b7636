-- Configuration versions may now hold the expectations too. SQLite cannot
-- change a CHECK constraint in place, so the table is rebuilt under the same
-- name with the same ids. Exceptions refer to their policy version by id:
-- the checks of those references wait for the end of this migration, by
-- which time every referenced row is back.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE config_versions_copy AS SELECT id, kind, key, version, spec, actor, created_at FROM config_versions;
DROP TABLE config_versions;
CREATE TABLE config_versions (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('site', 'sla_policy', 'queue', 'routing', 'expectations')),
    key         TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    spec        TEXT,
    actor       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (kind, key, version)
);
INSERT INTO config_versions (id, kind, key, version, spec, actor, created_at)
SELECT id, kind, key, version, spec, actor, created_at FROM config_versions_copy ORDER BY id;
DROP TABLE config_versions_copy;
