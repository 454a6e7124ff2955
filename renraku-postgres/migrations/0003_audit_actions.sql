-- The actions of audit events are core's (`renraku_core::AuditAction`), which grows: read
-- audit (viewed, listed, searched) and privacy (purged, exported, erased). The table no
-- longer lists them again; reading an event checks its action.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
