-- The terminal core: identity, settings, catalogue, operators, shifts, sales,
-- tenders, print jobs and the event log (outbox and audit chain in one).

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE catalogues (
	version   TEXT PRIMARY KEY,
	body      BLOB NOT NULL,
	loaded_at TEXT NOT NULL,
	active    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX catalogues_active ON catalogues(active) WHERE active = 1;

CREATE TABLE keys (
	kid        TEXT PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('terminal', 'authority')),
	private    BLOB,
	public     BLOB NOT NULL,
	cert       BLOB,
	created_at TEXT NOT NULL,
	active     INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE operators (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE,
	role         TEXT NOT NULL CHECK (role IN ('attendant', 'supervisor')),
	pin_hash     TEXT NOT NULL,
	failures     INTEGER NOT NULL DEFAULT 0,
	locked_until TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL
) STRICT;

CREATE TABLE shifts (
	id          TEXT PRIMARY KEY,
	operator_id TEXT NOT NULL REFERENCES operators(id),
	opened_at   TEXT NOT NULL,
	closed_at   TEXT,
	float       TEXT NOT NULL,
	counted     TEXT,
	zreport     TEXT
) STRICT;
-- At most one open shift per operator.
CREATE UNIQUE INDEX shifts_open ON shifts(operator_id) WHERE closed_at IS NULL;

-- The receipt number is the rowid: the sale path writes as few b-trees as
-- it can, since every page it touches is written to the WAL before the fsync.
CREATE TABLE sales (
	number            INTEGER PRIMARY KEY,
	id                TEXT NOT NULL UNIQUE,
	kind              TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
	shift_id          TEXT NOT NULL REFERENCES shifts(id),
	operator_id       TEXT NOT NULL REFERENCES operators(id),
	at                TEXT NOT NULL,
	state             TEXT NOT NULL CHECK (state IN ('paid', 'deferred', 'settled', 'voided')),
	site              TEXT NOT NULL,
	vehicle           TEXT NOT NULL DEFAULT '',
	catalogue_version TEXT NOT NULL,
	-- The sale as JSON (lines, totals, tenders, conversions, due, pass) is
	-- stored once: as the payload of its event, which this row points at.
	event_seq         INTEGER NOT NULL REFERENCES events(seq),
	refund_of         TEXT REFERENCES sales(id),
	void              TEXT
) STRICT;
-- No index on shift_id (nor on tenders.shift_id): a shift's Z-report scans
-- the table once at close, which costs less than writing one more b-tree
-- page to the WAL on every sale.
CREATE UNIQUE INDEX sales_one_refund ON sales(refund_of) WHERE refund_of IS NOT NULL;

-- A sale's tenders are in its document (its event's payload); the Z-report
-- reads them from there. An M-PESA receipt code pays one sale or settlement,
-- ever: this table holds each code used, so a reuse is refused.
CREATE TABLE mpesa_codes (
	code          TEXT PRIMARY KEY,
	sale_id       TEXT REFERENCES sales(id),
	settlement_id TEXT,
	amount        INTEGER NOT NULL
) STRICT;

CREATE TABLE print_jobs (
	id         INTEGER PRIMARY KEY,
	sale_id    TEXT REFERENCES sales(id),
	kind       TEXT NOT NULL,
	copy       INTEGER NOT NULL DEFAULT 0,
	ref        TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	printed_at TEXT,
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
) STRICT;
-- No index on pending jobs: it would cost a page on every sale. Printed jobs
-- are pruned after a week, so finding the next pending one scans a week of
-- jobs at most.

-- The event log: the outbox sync drains, and the audit chain. Append-only.
CREATE TABLE events (
	seq       INTEGER PRIMARY KEY,
	id        TEXT NOT NULL, -- UUIDv7, under the hash chain
	type      TEXT NOT NULL,
	at        TEXT NOT NULL,
	actor     TEXT NOT NULL DEFAULT '',
	payload   BLOB NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
) STRICT;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- What the hub has acknowledged: every event with seq <= acked_seq.
CREATE TABLE sync_state (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	acked_seq    INTEGER NOT NULL DEFAULT 0,
	last_success TEXT NOT NULL DEFAULT '',
	last_error   TEXT NOT NULL DEFAULT '',
	online       INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO sync_state (id) VALUES (1);
