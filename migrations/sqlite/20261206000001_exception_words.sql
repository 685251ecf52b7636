-- Words of each exception, for word search in the queue views: an FTS5
-- index (the row's id is the exception's) over one text, in this order:
--   - its own words: the summary, then the values (strings and numbers) of
--     its business keys and of its payload, as corrected when it was, the
--     whole cut at 16,000 characters;
--   - its notes: what people wrote on its trail (comments, and the reasons
--     of their resolutions, reassignments and other actions), appended as
--     they come.
-- Triggers keep it in step in the same transaction as the change. Tokens
-- are runs of letters and digits, compared without case and with their
-- accents, as on PostgreSQL.
CREATE VIRTUAL TABLE exception_words USING fts5 (words, tokenize = 'unicode61 remove_diacritics 0');

-- The index's tokens, one row per place each occurs, in token order: a
-- typed prefix is spelled out into the few tokens it begins by stepping from
-- token to token (an FTS5 prefix query copies the places of every token it
-- begins, which is slow for a common word, each time it runs).
CREATE VIRTUAL TABLE exception_words_terms USING fts5vocab (exception_words, 'instance');

-- An exception's own words.
CREATE VIEW exception_own_words AS
SELECT e.id, substr(
    e.summary
    || ' ' || coalesce((SELECT group_concat(j.value, ' ') FROM json_tree(CASE WHEN json_valid(e.refs) THEN e.refs ELSE '{}' END) j
                        WHERE j.type IN ('text', 'integer', 'real')), '')
    || ' ' || coalesce((SELECT group_concat(j.value, ' ')
                        FROM json_tree(CASE WHEN json_valid(coalesce(e.corrected_payload, e.payload))
                                            THEN coalesce(e.corrected_payload, e.payload) ELSE '{}' END) j
                        WHERE j.type IN ('text', 'integer', 'real')), ''),
    1, 16000) AS words
FROM exceptions e;

-- The note a record of an exception's trail adds, when a person wrote it:
-- its reason, and a comment's text.
CREATE VIEW exception_notes AS
SELECT a.id, a.entity_id,
       trim(coalesce(a.reason, '') || ' ' || coalesce(
           CASE WHEN a.action = 'exception.commented' AND json_valid(a.after) THEN json_extract(a.after, '$.comment') END,
           '')) AS note
FROM audit_log a
WHERE a.entity = 'exception' AND a.actor LIKE 'user:%' AND (a.reason IS NOT NULL OR a.action = 'exception.commented');

INSERT INTO exception_words (rowid, words)
SELECT o.id, o.words
       || coalesce(' ' || (SELECT group_concat(n.note, ' ') FROM exception_notes n WHERE n.entity_id = CAST(o.id AS TEXT)), '')
FROM exception_own_words o;

CREATE TRIGGER exception_words_on_insert AFTER INSERT ON exceptions
BEGIN
    INSERT INTO exception_words (rowid, words) SELECT o.id, o.words FROM exception_own_words o WHERE o.id = NEW.id;
END;

-- A change of its own words (rare: a correction) writes the whole again,
-- its notes read back from the trail.
CREATE TRIGGER exception_words_on_change AFTER UPDATE OF summary, refs, payload, corrected_payload ON exceptions
WHEN NEW.summary IS NOT OLD.summary OR NEW.refs IS NOT OLD.refs
  OR NEW.payload IS NOT OLD.payload OR NEW.corrected_payload IS NOT OLD.corrected_payload
BEGIN
    UPDATE exception_words
    SET words = (SELECT o.words FROM exception_own_words o WHERE o.id = NEW.id)
        || coalesce(' ' || (SELECT group_concat(n.note, ' ') FROM exception_notes n WHERE n.entity_id = CAST(NEW.id AS TEXT)), '')
    WHERE rowid = NEW.id;
END;

CREATE TRIGGER exception_words_on_note AFTER INSERT ON audit_log
WHEN NEW.entity = 'exception' AND NEW.actor LIKE 'user:%' AND (NEW.reason IS NOT NULL OR NEW.action = 'exception.commented')
BEGIN
    UPDATE exception_words SET words = words || ' ' || (SELECT n.note FROM exception_notes n WHERE n.id = NEW.id)
    WHERE rowid = CAST(NEW.entity_id AS INTEGER);
END;
