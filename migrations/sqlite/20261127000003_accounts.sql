-- People who use the console.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('staff', 'supervisor', 'auditor', 'admin')),
    password_hash  TEXT    NOT NULL,
    -- Demo accounts with known passwords, created only with the demo data.
    demo           INTEGER NOT NULL DEFAULT 0,
    -- Bumped to end every session of the user at once (disable, role change,
    -- password reset).
    session_epoch  INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    disabled_at    INTEGER
);

-- The queues a staff member works in.
CREATE TABLE queue_members (
    user_id  INTEGER NOT NULL REFERENCES users (id),
    queue    TEXT    NOT NULL,
    PRIMARY KEY (user_id, queue)
);

-- Failed logins, by the name tried (whether it exists or not) and address.
CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY,
    username  TEXT    NOT NULL,
    address   TEXT    NOT NULL,
    at        INTEGER NOT NULL
);

CREATE INDEX login_failures_username ON login_failures (username, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

-- Sessions, in the format of the session store.
CREATE TABLE tower_sessions (
    id           TEXT    PRIMARY KEY NOT NULL,
    data         BLOB    NOT NULL,
    expiry_date  INTEGER NOT NULL
);
