-- Escalation steps are kept per clock: while an exception is new, its
-- acknowledge clock is the one at risk or breached; once acknowledged, its
-- resolve clock may be at risk or breached in its turn, and those steps
-- fire once more, each once. (Acknowledging clears the at-risk and breached
-- bits of `exceptions.escalated` for the resolve clock.)
CREATE TABLE escalation_steps_by_clock (
    exception_id  INTEGER NOT NULL REFERENCES exceptions (id),
    clock         TEXT    NOT NULL CHECK (clock IN ('acknowledge', 'resolve')),
    level         TEXT    NOT NULL CHECK (level IN ('at_risk', 'breached', 'unacknowledged')),
    fired_at      INTEGER NOT NULL,
    PRIMARY KEY (exception_id, clock, level)
);
INSERT INTO escalation_steps_by_clock (exception_id, clock, level, fired_at)
SELECT s.exception_id,
       CASE WHEN s.level = 'unacknowledged' OR e.acknowledged_at IS NULL OR e.acknowledged_at > s.fired_at
            THEN 'acknowledge' ELSE 'resolve' END,
       s.level, s.fired_at
FROM escalation_steps s JOIN exceptions e ON e.id = s.exception_id;
DROP TABLE escalation_steps;
ALTER TABLE escalation_steps_by_clock RENAME TO escalation_steps;
