-- Console sessions move to a table of the product's own, kept as JSON and
-- read the same way on every backend. Sessions open before the upgrade end:
-- people sign in again once.
DROP TABLE tower_sessions;

CREATE TABLE console_sessions (
    id          TEXT    PRIMARY KEY NOT NULL,
    data        TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
