-- Bulk actions are leased like replays: whichever worker holds the lease runs
-- the job, and another takes it over when the lease runs out (a restart, or
-- another instance).
ALTER TABLE bulk_jobs ADD COLUMN lease_token TEXT;
ALTER TABLE bulk_jobs ADD COLUMN lease_until INTEGER;

CREATE INDEX bulk_jobs_unfinished ON bulk_jobs (id) WHERE finished_at IS NULL;
