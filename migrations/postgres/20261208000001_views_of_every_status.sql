-- The orders of the queue views beyond the open exceptions, so that a view
-- of closed exceptions, or of every status, walks an index in its own order
-- and passes over what its filters leave out, rather than reading every row
-- a queue or a site leaves and sorting them (130 ms to 1.4 s at a million
-- exceptions on SQLite). The same indexes on both backends.
--
-- The closed exceptions, in SLA and severity order, over all queues and
-- within one (oldest first they walk `exceptions_created_id` and
-- `exceptions_queue_created`, of which they are most rows).
CREATE INDEX exceptions_closed_due ON exceptions (sla_sort, id)
    WHERE status IN ('resolved', 'dismissed');
CREATE INDEX exceptions_closed_severity ON exceptions (severity_order, sla_sort, id)
    WHERE status IN ('resolved', 'dismissed');
CREATE INDEX exceptions_closed_queue_due ON exceptions (queue, sla_sort, id)
    WHERE status IN ('resolved', 'dismissed');
CREATE INDEX exceptions_closed_queue_severity ON exceptions (queue, severity_order, sla_sort, id)
    WHERE status IN ('resolved', 'dismissed');
-- Every exception, in SLA and severity order: views of every status, or of
-- open and closed statuses together.
CREATE INDEX exceptions_due ON exceptions (sla_sort, id);
CREATE INDEX exceptions_severity ON exceptions (severity_order, sla_sort, id);
-- A person's exceptions in severity order and oldest first (in SLA order
-- they walk `exceptions_assignee`), with their status, so that a walk
-- passing over the statuses a view leaves out reads no row for them.
CREATE INDEX exceptions_assignee_severity ON exceptions (assignee, severity_order, sla_sort, id, status)
    WHERE assignee IS NOT NULL;
CREATE INDEX exceptions_assignee_created ON exceptions (assignee, created_at, id, status)
    WHERE assignee IS NOT NULL;
-- Closed exceptions whose clock still runs: none while every closed
-- exception's clock is stopped, so that a view of closed exceptions at a
-- running SLA state (on track, at risk, breached) answers at once that it
-- holds nothing, rather than walking every closed exception to find so.
CREATE INDEX exceptions_closed_running ON exceptions (sla_sort, id)
    WHERE status IN ('resolved', 'dismissed') AND sla_frozen IS NULL AND sla_due_at IS NOT NULL;
-- The planner's estimate of a view at an SLA state among some statuses:
-- an exception's clock runs (`sla_frozen` is empty) as its status says, and
-- counted as if apart, the rows of "new and breached" come out a hundredth
-- of what they are, which led to reading them all and sorting them (100 ms
-- to 1 s at a million exceptions) rather than walking the view's order.
CREATE STATISTICS exceptions_status_clock (mcv, dependencies) ON status, sla_frozen FROM exceptions;
