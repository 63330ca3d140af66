-- The queue of bills and reversals owed to the national platform
-- (sync/hub/forward). Rows are derived from applied events; each is
-- claimed with a lease, so several hub processes share the queue.
CREATE TABLE forwards (
	n           INTEGER PRIMARY KEY,
	ref         TEXT NOT NULL,
	kind        TEXT NOT NULL CHECK (kind IN ('bill', 'reversal', 'redemption')),
	sale_key    TEXT NOT NULL,
	site        TEXT NOT NULL,
	terminal    TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	at          TEXT NOT NULL, -- when the money was taken (a bill) or the void made (a reversal)
	body        BLOB NOT NULL,
	state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'posted', 'refused')),
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     TEXT NOT NULL,
	lease_owner TEXT,
	lease_until TEXT,
	bill_number TEXT NOT NULL DEFAULT '',
	error       TEXT NOT NULL DEFAULT '',
	message     TEXT NOT NULL DEFAULT '',
	tried_at    TEXT,
	created_at  TEXT NOT NULL,
	done_at     TEXT,
	UNIQUE (ref, kind)
);
CREATE INDEX forwards_due ON forwards (next_at, n) WHERE state = 'pending';
CREATE INDEX forwards_sale ON forwards (sale_key);

-- Voids and refunds: every bill of the sale gets a reversal, including
-- bills derived after the void (a settlement uploaded late).
CREATE TABLE forward_voids (
	sale_key TEXT PRIMARY KEY,
	site     TEXT NOT NULL,
	terminal TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	body     BLOB NOT NULL,
	at       TEXT NOT NULL
);

-- How far each terminal's events were turned into forwards.
CREATE TABLE forward_cursors (
	terminal TEXT PRIMARY KEY,
	seq      INTEGER NOT NULL
);

-- Prepaid tickets of the platform, by site and day, brought down for the
-- gates to check offline. n is the hub's change number: terminals read
-- the changes after the last they hold.
CREATE TABLE tickets (
	n          INTEGER PRIMARY KEY,
	ticket_no  TEXT NOT NULL UNIQUE,
	site       TEXT NOT NULL,
	day        TEXT NOT NULL,
	valid_from TEXT NOT NULL,
	valid_to   TEXT NOT NULL,
	party      BLOB NOT NULL,
	vehicle    BLOB,
	status     TEXT NOT NULL CHECK (status IN ('valid', 'cancelled')),
	fetched_at TEXT NOT NULL
);
CREATE INDEX tickets_site ON tickets (site, n);

-- Each list's cursor at the platform and its last refusal.
CREATE TABLE ticket_lists (
	site       TEXT NOT NULL,
	day        TEXT NOT NULL,
	cursor     TEXT NOT NULL DEFAULT '',
	fetched_at TEXT,
	error      TEXT NOT NULL DEFAULT '',
	error_at   TEXT,
	PRIMARY KEY (site, day)
);
