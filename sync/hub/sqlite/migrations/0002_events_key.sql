-- Events keyed by (terminal, seq) in the table's own b-tree.
--
-- Version 1 kept each event in three b-trees: the rowid (arrival order)
-- and unique indexes on (terminal, seq) and on the event id, with the
-- terminal's 36-character id repeated in the row and in an index. Ingest
-- is the hub's hot path, and those indexes were most of its cost. Now:
--
--   * each terminal has a small number, terminals.no;
--   * an event's rowid is k = no << 40 | seq, so (terminal, seq) is the
--     table's key: exactly once by construction, looked up and scanned in
--     order by a range of k, with no second b-tree;
--   * the event id is no longer indexed. It is a UUIDv7 chosen by the
--     terminal, covered by the terminal's hash chain; a terminal that sends
--     an event again at another seq shows as a fork or a broken chain.
--
-- seq stays below 2^40 (a gate selling a sale a second for 30,000 years)
-- and no below 2^23 (8 million terminals); the hub refuses anything else.

ALTER TABLE terminals ADD COLUMN no INTEGER;
UPDATE terminals SET no = rowid;
CREATE UNIQUE INDEX terminals_no ON terminals(no);

CREATE TABLE events_v2 (
	k           INTEGER PRIMARY KEY, -- terminals.no << 40 | seq
	id          TEXT NOT NULL,
	type        TEXT NOT NULL,
	at          TEXT NOT NULL,
	actor       TEXT NOT NULL,
	payload     BLOB NOT NULL, -- the JSON bytes exactly as the terminal hashed them
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL,
	received_at TEXT NOT NULL
) STRICT;

INSERT INTO events_v2 (k, id, type, at, actor, payload, prev_hash, hash, received_at)
	SELECT (t.no << 40) | e.seq, e.id, e.type, e.at, e.actor, e.payload, e.prev_hash, e.hash, e.received_at
	FROM events e JOIN terminals t ON t.id = e.terminal
	ORDER BY t.no, e.seq;

DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;

-- The site feed reads only these types: a small partial index, in key
-- order, so a peer's feed events after a cursor are one range.
CREATE INDEX events_feed ON events(k) WHERE type IN ('sale.voided', 'pass.settled', 'pass.used');
