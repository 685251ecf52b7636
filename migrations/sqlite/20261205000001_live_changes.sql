-- Consoles follow changes live. Every change a console shows (an exception
-- opened or changed, a replay queued or done, a notification, an audit
-- record of an exception, such as a comment) counts up one number in the
-- same transaction; each instance reads it a few times a second and tells
-- the consoles connected to it when it moved.
CREATE TABLE live_changes (
    id  INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    n   INTEGER NOT NULL
);
INSERT INTO live_changes (id, n) VALUES (1, 0);

CREATE TRIGGER exceptions_live_insert AFTER INSERT ON exceptions
BEGIN
    UPDATE live_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER exceptions_live_update AFTER UPDATE ON exceptions
BEGIN
    UPDATE live_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER replay_jobs_live_insert AFTER INSERT ON replay_jobs
BEGIN
    UPDATE live_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER replay_jobs_live_update AFTER UPDATE ON replay_jobs
BEGIN
    UPDATE live_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER notifications_live AFTER INSERT ON notifications
BEGIN
    UPDATE live_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER audit_log_live AFTER INSERT ON audit_log WHEN NEW.entity = 'exception'
BEGIN
    UPDATE live_changes SET n = n + 1 WHERE id = 1;
END;
