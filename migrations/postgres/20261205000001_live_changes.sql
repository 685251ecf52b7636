-- Consoles follow changes live. Every transaction that changes what a
-- console shows (an exception opened or changed, a replay queued or done, a
-- notification, an audit record of an exception, such as a comment)
-- notifies the channel `crossdock_changes`
-- once at its commit (PostgreSQL folds identical notifications of one
-- transaction); each instance listens and tells the consoles connected to
-- it. The payload names the schema, so that installations sharing a
-- database in schemas of their own are told apart.
CREATE FUNCTION live_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('crossdock_changes', current_schema());
    RETURN NULL;
END
$$;

CREATE TRIGGER exceptions_live AFTER INSERT OR UPDATE ON exceptions
    FOR EACH ROW EXECUTE FUNCTION live_change();
CREATE TRIGGER replay_jobs_live AFTER INSERT OR UPDATE ON replay_jobs
    FOR EACH ROW EXECUTE FUNCTION live_change();
CREATE TRIGGER notifications_live AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION live_change();
CREATE TRIGGER audit_log_live AFTER INSERT ON audit_log
    FOR EACH ROW WHEN (NEW.entity = 'exception') EXECUTE FUNCTION live_change();
