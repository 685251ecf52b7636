-- The open exceptions oldest first: a view of them in that order walks this
-- index and passes over what its filters leave out, rather than reading and
-- sorting every row a site or a severity leaves (the SQLite planner's own
-- choice, 100 to 360 ms at a million exceptions).
CREATE INDEX exceptions_open_created ON exceptions (created_at, id)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting');
