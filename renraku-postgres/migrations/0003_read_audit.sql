-- Read audit (opt-in): views, listings and searches are audit events too. Searches are in
-- the trail of the pseudo-case `*` (renraku_core::CaseId::across_cases).
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check
    CHECK (action IN ('created', 'updated', 'deleted', 'case_erased', 'viewed', 'listed', 'searched'));
