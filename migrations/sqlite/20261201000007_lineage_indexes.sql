-- The transactions list, the longest quiet first, whatever the flow.
CREATE INDEX transactions_quiet ON transactions (last_milestone_at);
-- The findings kept for an expectation.
CREATE INDEX lineage_findings_expectation ON lineage_findings (expectation_id) WHERE expectation_id IS NOT NULL;
