-- Words of each exception, for word search in the queue views: an FTS5
-- index (the row's id is the exception's) over one text, in this order: its
-- summary, its business context (the business keys and the payload, as
-- corrected when it was), and its notes (the comments and the reasons
-- written on its trail: resolutions, reassignments). Triggers keep it in
-- step in the same transaction as the change. Tokens are runs of letters
-- and digits, compared without case and with their accents, as on
-- PostgreSQL.
CREATE VIRTUAL TABLE exception_words USING fts5 (words, tokenize = 'unicode61 remove_diacritics 0');

-- The note each record of an exception's trail adds: its reason, and a
-- comment's text.
CREATE VIEW exception_notes AS
SELECT a.id, a.entity_id,
       trim(coalesce(a.reason, '') || ' ' || coalesce(
           CASE WHEN a.action = 'exception.commented' AND json_valid(a.after) THEN json_extract(a.after, '$.comment') END,
           '')) AS note
FROM audit_log a
WHERE a.entity = 'exception' AND (a.reason IS NOT NULL OR a.action = 'exception.commented');

INSERT INTO exception_words (rowid, words)
SELECT e.id, e.summary || ' ' || e.refs || ' ' || coalesce(e.corrected_payload, e.payload)
       || coalesce(' ' || (SELECT group_concat(n.note, ' ') FROM exception_notes n WHERE n.entity_id = CAST(e.id AS TEXT)), '')
FROM exceptions e;

CREATE TRIGGER exception_words_on_insert AFTER INSERT ON exceptions
BEGIN
    INSERT INTO exception_words (rowid, words)
    VALUES (NEW.id, NEW.summary || ' ' || NEW.refs || ' ' || coalesce(NEW.corrected_payload, NEW.payload));
END;

-- A change of its own text (rare: a correction) writes the whole again,
-- its notes read back from the trail.
CREATE TRIGGER exception_words_on_change AFTER UPDATE OF summary, refs, payload, corrected_payload ON exceptions
WHEN NEW.summary IS NOT OLD.summary OR NEW.refs IS NOT OLD.refs
  OR NEW.payload IS NOT OLD.payload OR NEW.corrected_payload IS NOT OLD.corrected_payload
BEGIN
    UPDATE exception_words
    SET words = NEW.summary || ' ' || NEW.refs || ' ' || coalesce(NEW.corrected_payload, NEW.payload)
        || coalesce(' ' || (SELECT group_concat(n.note, ' ') FROM exception_notes n WHERE n.entity_id = CAST(NEW.id AS TEXT)), '')
    WHERE rowid = NEW.id;
END;

CREATE TRIGGER exception_words_on_note AFTER INSERT ON audit_log
WHEN NEW.entity = 'exception' AND (NEW.reason IS NOT NULL OR NEW.action = 'exception.commented')
BEGIN
    UPDATE exception_words SET words = words || ' ' || (SELECT n.note FROM exception_notes n WHERE n.id = NEW.id)
    WHERE rowid = CAST(NEW.entity_id AS INTEGER);
END;
