-- The seq of the event that created each record, so that Apply finds a
-- sale's event through its record: a paid sale nothing else names keeps
-- no fact in report_facts (sync/hub/reportstate.go, ReportBatch.Lean),
-- and a void that comes later reads the sale's tenders from its event.
-- Records made before this migration (or copied from an embedded hub)
-- have none: their sales' facts were all written. 0009 is another
-- change's.
ALTER TABLE records ADD COLUMN seq bigint;
