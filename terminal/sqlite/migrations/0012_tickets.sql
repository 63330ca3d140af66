-- Prepaid tickets of the national platform (issue 16): the site's list as
-- the hub brought it down through the feed, the uses this terminal knows
-- of, and where the list stands.
--
-- tickets: one row per ticket number, the latest change the hub sent (a
-- cancellation replaces the sale). party and vehicle are JSON as the
-- platform gave them, already checked.
CREATE TABLE tickets (
	no         TEXT PRIMARY KEY,
	site       TEXT NOT NULL,
	day        TEXT NOT NULL,
	valid_from TEXT NOT NULL,
	valid_to   TEXT NOT NULL,
	party      TEXT NOT NULL,
	vehicle    TEXT,
	status     TEXT NOT NULL CHECK (status IN ('valid', 'cancelled')),
	n          INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- ticket_uses: a ticket let in here (own = 1, written with its
-- ticket.redeemed event) or at another lane (from the feed). One row per
-- ticket and gate: the first use at a gate stands.
CREATE TABLE ticket_uses (
	no       TEXT NOT NULL,
	gate     TEXT NOT NULL,
	at       TEXT NOT NULL,
	own      INTEGER NOT NULL,
	sale_id  TEXT,
	PRIMARY KEY (no, gate)
) STRICT, WITHOUT ROWID;

-- ticket_list: the hub whose numbering the cursor is in (a relay and the
-- centre number their changes each their own way), the cursor, and why
-- the last page was refused ('' when the last page was taken).
CREATE TABLE ticket_list (
	one        INTEGER PRIMARY KEY CHECK (one = 1),
	hub_id     TEXT NOT NULL,
	cursor     INTEGER NOT NULL,
	updated_at TEXT NOT NULL,
	error      TEXT NOT NULL DEFAULT '',
	error_at   TEXT NOT NULL DEFAULT ''
) STRICT;
