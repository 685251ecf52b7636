-- Configuration versions may hold escalation policies, and kinds to come. The kinds are checked
-- where versions are read (each names a kind the server knows), so the
-- rebuilt table checks them no more and new kinds need no rebuild.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE config_versions_copy AS SELECT id, kind, key, version, spec, actor, created_at FROM config_versions;
DROP TABLE config_versions;
CREATE TABLE config_versions (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
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
