-- Words of each exception, for word search in the queue views, in this
-- order:
--   - its own words (`own`): the summary, then the values (strings and
--     numbers) of its business keys and of its payload, as corrected when
--     it was, the whole cut at 16,000 characters;
--   - its notes (`notes`): what people wrote on its trail (comments, and
--     the reasons of their resolutions, reassignments and other actions),
--     appended as they come.
-- Both are searched together through a GIN index of `own || notes`.
-- Triggers keep them in step in the same transaction as the change.
--
-- Tokens are runs of letters and digits, compared without case, as SQLite's
-- FTS5 cuts them: every other character becomes a space before the parser
-- sees the text, so `SKU-20418` is `sku` then `20418` on both backends
-- (PostgreSQL's own parser would read `-20418` as a signed number). Which
-- characters are letters follows the database's locale: a UTF-8 one
-- (C.UTF-8, en_US.UTF-8) for text beyond ASCII.
CREATE FUNCTION search_words(body TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT to_tsvector('simple'::regconfig, regexp_replace(coalesce(body, ''), '[^[:alnum:]]+', ' ', 'g')) $$;

-- The values of a JSON document (strings and numbers), as one text.
CREATE FUNCTION json_words(doc TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT coalesce(string_agg(v #>> '{}', ' '), '') FROM jsonb_path_query(doc::jsonb, 'strict $.**') AS v
      WHERE jsonb_typeof(v) IN ('string', 'number') $$;

-- An exception's own words.
CREATE FUNCTION exception_own_words(summary TEXT, refs TEXT, payload TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT search_words(left(summary || ' ' || json_words(refs) || ' ' || json_words(payload), 16000)) $$;

-- The note a record of an exception's trail adds: its reason, and a
-- comment's text.
CREATE FUNCTION exception_note(action TEXT, reason TEXT, after TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT trim(coalesce(reason, '') || ' ' || coalesce(
          CASE WHEN action = 'exception.commented' THEN after::jsonb ->> 'comment' END, '')) $$;

CREATE TABLE exception_words (
    exception_id BIGINT PRIMARY KEY,
    own   tsvector NOT NULL,
    notes tsvector NOT NULL DEFAULT ''::tsvector
);

-- Every exception's words written again from the exceptions and their
-- trails (here, and after an installation is copied in).
CREATE FUNCTION exception_words_rebuild() RETURNS void LANGUAGE sql AS $$
TRUNCATE exception_words;
INSERT INTO exception_words (exception_id, own, notes)
SELECT e.id,
       exception_own_words(e.summary, e.refs, coalesce(e.corrected_payload, e.payload)),
       coalesce((SELECT search_words(string_agg(exception_note(a.action, a.reason, a.after), ' ' ORDER BY a.id))
                 FROM audit_log a
                 WHERE a.entity = 'exception' AND a.entity_id = e.id::text AND a.actor LIKE 'user:%'
                   AND (a.reason IS NOT NULL OR a.action = 'exception.commented')), ''::tsvector)
FROM exceptions e;
$$;
SELECT exception_words_rebuild();

CREATE INDEX exception_words_search ON exception_words USING GIN ((own || notes));

CREATE FUNCTION exception_words_own() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO exception_words (exception_id, own)
        VALUES (NEW.id, exception_own_words(NEW.summary, NEW.refs, coalesce(NEW.corrected_payload, NEW.payload)));
    ELSIF NEW.summary IS DISTINCT FROM OLD.summary OR NEW.refs IS DISTINCT FROM OLD.refs
       OR NEW.payload IS DISTINCT FROM OLD.payload OR NEW.corrected_payload IS DISTINCT FROM OLD.corrected_payload THEN
        UPDATE exception_words
        SET own = exception_own_words(NEW.summary, NEW.refs, coalesce(NEW.corrected_payload, NEW.payload))
        WHERE exception_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER exception_words_own AFTER INSERT OR UPDATE OF summary, refs, payload, corrected_payload ON exceptions
FOR EACH ROW EXECUTE FUNCTION exception_words_own();

CREATE FUNCTION exception_words_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE exception_words SET notes = notes || search_words(exception_note(NEW.action, NEW.reason, NEW.after))
    WHERE exception_id = NEW.entity_id::bigint;
    RETURN NULL;
END $$;
CREATE TRIGGER exception_words_note AFTER INSERT ON audit_log
FOR EACH ROW WHEN (NEW.entity = 'exception' AND NEW.actor LIKE 'user:%'
                  AND (NEW.reason IS NOT NULL OR NEW.action = 'exception.commented')
                  AND NEW.entity_id ~ '^[0-9]{1,18}$')
EXECUTE FUNCTION exception_words_note();

-- The auditor console's word filter cuts reasons the same way.
DROP INDEX audit_log_words;
CREATE INDEX audit_log_words ON audit_log USING GIN (search_words(reason)) WHERE reason IS NOT NULL;
