-- Words in the audit trail's reasons, for the auditor console's word filter:
-- an FTS5 index over audit_log.reason (the log holds the text; the index only
-- its words), kept by a trigger as each record is appended. Records are never
-- changed or deleted, so nothing else keeps it.
CREATE VIRTUAL TABLE audit_words USING fts5 (reason, content = 'audit_log', content_rowid = 'id');
INSERT INTO audit_words (audit_words) VALUES ('rebuild');

CREATE TRIGGER audit_words_on_append AFTER INSERT ON audit_log
WHEN NEW.reason IS NOT NULL
BEGIN
    INSERT INTO audit_words (rowid, reason) VALUES (NEW.id, NEW.reason);
END;
