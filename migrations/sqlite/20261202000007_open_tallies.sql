-- Open exceptions tallied per queue, site and assignee, kept in step with
-- every change by triggers (in the change's own transaction), so the SLA
-- board and the counts beside a queue view read a few hundred rows instead
-- of every open exception.
--
-- SLA states move with time, not only with changes. The tallies count which
-- running clocks had turned at risk and fallen due as of one instant, the
-- tally clock; a reader adds what turned between that instant and its own
-- "now" (a short range of two indexes), and the clock is moved forward from
-- time to time, in a transaction that folds those turns into the tallies.

-- A running clock turns at risk no later than it falls due: the effective
-- at-risk instant is capped by the due instant (and stands in for a missing one).
UPDATE exceptions SET sla_risk_at = sla_sort
WHERE sla_frozen IS NULL AND sla_sort < 9007199254740991 AND (sla_risk_at IS NULL OR sla_risk_at > sla_sort);

CREATE TABLE open_tally_clock (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    at  INTEGER NOT NULL
);
INSERT INTO open_tally_clock (id, at) VALUES (1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

-- assignee is '' for the unassigned (a key column cannot be NULL and unique).
CREATE TABLE open_tallies (
    queue            TEXT    NOT NULL,
    site             TEXT    NOT NULL,
    assignee         TEXT    NOT NULL,
    open             INTEGER NOT NULL,
    waiting          INTEGER NOT NULL,
    -- Clocks stopped while waiting, within and past their target.
    paused           INTEGER NOT NULL,
    frozen_breached  INTEGER NOT NULL,
    -- Running clocks; those at risk and those due as of the tally clock.
    running          INTEGER NOT NULL,
    risk_passed      INTEGER NOT NULL,
    due_passed       INTEGER NOT NULL,
    PRIMARY KEY (queue, site, assignee)
) WITHOUT ROWID;

-- What turned between the tally clock and a reader's now.
CREATE INDEX exceptions_turn_risk ON exceptions (sla_risk_at, queue, site, assignee)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting') AND sla_sort < 9007199254740991;
CREATE INDEX exceptions_turn_due ON exceptions (sla_sort, queue, site, assignee)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting') AND sla_sort < 9007199254740991;

-- The earliest breach of each site and person (queues have theirs).
CREATE INDEX exceptions_open_site_due ON exceptions (site, sla_sort)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting');
CREATE INDEX exceptions_open_assignee_due ON exceptions (assignee, sla_sort)
    WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting');

INSERT INTO open_tallies
SELECT queue, site, COALESCE(assignee, ''), COUNT(*),
       SUM(status = 'waiting'),
       SUM(sla_frozen IS 'paused'),
       SUM(sla_frozen IS 'breached'),
       SUM(sla_sort < 9007199254740991),
       SUM(sla_sort < 9007199254740991 AND sla_risk_at <= (SELECT at FROM open_tally_clock)),
       SUM(sla_sort <= (SELECT at FROM open_tally_clock))
FROM exceptions
WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting')
GROUP BY queue, site, COALESCE(assignee, '');

-- An open exception counts in its row; a change takes it out of the old
-- row and puts it into the new one.
CREATE TRIGGER open_tallies_enter_on_insert AFTER INSERT ON exceptions
WHEN NEW.status IN ('new', 'acknowledged', 'in_progress', 'waiting')
BEGIN
    INSERT INTO open_tallies (queue, site, assignee, open, waiting, paused, frozen_breached, running, risk_passed, due_passed)
    SELECT NEW.queue, NEW.site, COALESCE(NEW.assignee, ''), 1,
           NEW.status = 'waiting',
           NEW.sla_frozen IS 'paused',
           NEW.sla_frozen IS 'breached',
           NEW.sla_sort < 9007199254740991,
           (NEW.sla_sort < 9007199254740991 AND NEW.sla_risk_at <= c.at) IS 1,
           NEW.sla_sort <= c.at
    FROM open_tally_clock c WHERE c.id = 1
    ON CONFLICT (queue, site, assignee) DO UPDATE SET
        open = open + excluded.open,
        waiting = waiting + excluded.waiting,
        paused = paused + excluded.paused,
        frozen_breached = frozen_breached + excluded.frozen_breached,
        running = running + excluded.running,
        risk_passed = risk_passed + excluded.risk_passed,
        due_passed = due_passed + excluded.due_passed;
END;

CREATE TRIGGER open_tallies_enter_on_update
AFTER UPDATE OF status, queue, site, assignee, sla_risk_at, sla_frozen, sla_sort ON exceptions
WHEN NEW.status IN ('new', 'acknowledged', 'in_progress', 'waiting')
BEGIN
    INSERT INTO open_tallies (queue, site, assignee, open, waiting, paused, frozen_breached, running, risk_passed, due_passed)
    SELECT NEW.queue, NEW.site, COALESCE(NEW.assignee, ''), 1,
           NEW.status = 'waiting',
           NEW.sla_frozen IS 'paused',
           NEW.sla_frozen IS 'breached',
           NEW.sla_sort < 9007199254740991,
           (NEW.sla_sort < 9007199254740991 AND NEW.sla_risk_at <= c.at) IS 1,
           NEW.sla_sort <= c.at
    FROM open_tally_clock c WHERE c.id = 1
    ON CONFLICT (queue, site, assignee) DO UPDATE SET
        open = open + excluded.open,
        waiting = waiting + excluded.waiting,
        paused = paused + excluded.paused,
        frozen_breached = frozen_breached + excluded.frozen_breached,
        running = running + excluded.running,
        risk_passed = risk_passed + excluded.risk_passed,
        due_passed = due_passed + excluded.due_passed;
END;

CREATE TRIGGER open_tallies_leave_on_update
AFTER UPDATE OF status, queue, site, assignee, sla_risk_at, sla_frozen, sla_sort ON exceptions
WHEN OLD.status IN ('new', 'acknowledged', 'in_progress', 'waiting')
BEGIN
    UPDATE open_tallies SET
        open = open - 1,
        waiting = waiting - (OLD.status = 'waiting'),
        paused = paused - (OLD.sla_frozen IS 'paused'),
        frozen_breached = frozen_breached - (OLD.sla_frozen IS 'breached'),
        running = running - (OLD.sla_sort < 9007199254740991),
        risk_passed = risk_passed
            - ((OLD.sla_sort < 9007199254740991 AND OLD.sla_risk_at <= (SELECT at FROM open_tally_clock)) IS 1),
        due_passed = due_passed - (OLD.sla_sort <= (SELECT at FROM open_tally_clock))
    WHERE queue = OLD.queue AND site = OLD.site AND assignee = COALESCE(OLD.assignee, '');
END;

CREATE TRIGGER open_tallies_leave_on_delete AFTER DELETE ON exceptions
WHEN OLD.status IN ('new', 'acknowledged', 'in_progress', 'waiting')
BEGIN
    UPDATE open_tallies SET
        open = open - 1,
        waiting = waiting - (OLD.status = 'waiting'),
        paused = paused - (OLD.sla_frozen IS 'paused'),
        frozen_breached = frozen_breached - (OLD.sla_frozen IS 'breached'),
        running = running - (OLD.sla_sort < 9007199254740991),
        risk_passed = risk_passed
            - ((OLD.sla_sort < 9007199254740991 AND OLD.sla_risk_at <= (SELECT at FROM open_tally_clock)) IS 1),
        due_passed = due_passed - (OLD.sla_sort <= (SELECT at FROM open_tally_clock))
    WHERE queue = OLD.queue AND site = OLD.site AND assignee = COALESCE(OLD.assignee, '');
END;
