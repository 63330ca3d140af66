-- The seq of the event that created each record, so that Apply finds a
-- sale's event through its record: a paid sale nothing else names keeps
-- no fact in report_facts (sync/hub/reportstate.go, ReportBatch.Lean),
-- and a void that comes later reads the sale's tenders from its event.
-- Records made before this migration (or copied from an embedded hub)
-- have none: their sales' facts were all written. 0009 is another
-- change's.
ALTER TABLE records ADD COLUMN seq bigint;

-- The peer certificates each terminal holds, one row a terminal (its key
-- ids, sorted) instead of one a key id: a site's feed answer reads every
-- terminal's holds of the site, which was one row for each pair of its
-- terminals (20,000 rows a feed request at 143 terminals a site, the
-- costliest statement of the national backlog), and a feed request wrote
-- its holds one row at a time.
CREATE TABLE cert_hold_sets (
	terminal_id text PRIMARY KEY REFERENCES terminals(id),
	key_ids     text[] NOT NULL
);
INSERT INTO cert_hold_sets (terminal_id, key_ids)
	SELECT terminal_id, array_agg(key_id ORDER BY key_id) FROM cert_holds GROUP BY terminal_id;
DROP TABLE cert_holds;
