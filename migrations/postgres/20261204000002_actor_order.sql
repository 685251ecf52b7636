-- Actors compare byte by byte, as on SQLite: the audit filter reads the
-- system's actors as the range 'system:' to 'system;', which a language's
-- collation would order otherwise.
ALTER TABLE audit_log ALTER COLUMN actor TYPE TEXT COLLATE "C";
