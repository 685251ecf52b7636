-- A source owns one or more prefixes of `source` values (a middleware owns
-- one per system it forwards), kept as a JSON array without trailing `/`.
ALTER TABLE sources ADD COLUMN prefixes TEXT NOT NULL DEFAULT '[]';
UPDATE sources SET prefixes = json_array(rtrim(prefix, '/'));
ALTER TABLE sources DROP COLUMN prefix;

-- A repeat groups only with the failures its own source filed.
UPDATE exceptions SET fingerprint = COALESCE(
    (SELECT s.name FROM events v JOIN sources s ON s.id = v.source_id WHERE v.id = exceptions.event_id), ''
) || '|' || fingerprint
WHERE fingerprint IS NOT NULL;
