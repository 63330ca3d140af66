-- A site relay's own records, beside its hub store (hub.db): who it is at
-- the centre, the uploads its terminals signed (kept as sent until the
-- centre holds them), and what it brought down from the centre.

-- The relay's identity at the central hub (one row): its key, certified
-- by the site authority, and the site's authority public keys.
CREATE TABLE identity (
	one         INTEGER PRIMARY KEY CHECK (one = 1),
	relay_id    TEXT NOT NULL,
	site        TEXT NOT NULL,
	name        TEXT NOT NULL,
	private     BLOB NOT NULL, -- Ed25519 seed and public key, 64 bytes
	certificate TEXT NOT NULL,
	authorities TEXT NOT NULL,
	upstream    TEXT NOT NULL,
	hub_id      TEXT NOT NULL,
	enrolled_at TEXT NOT NULL
) STRICT;

-- Each upload a terminal made to the relay, exactly as it sent it: its
-- body bytes and signature headers, so the centre can check the
-- terminal's own signature. Deleted once the centre holds last_seq.
CREATE TABLE uploads (
	terminal  TEXT NOT NULL,
	first_seq INTEGER NOT NULL,
	last_seq  INTEGER NOT NULL,
	last_hash TEXT NOT NULL,
	time_ms   INTEGER NOT NULL,
	nonce     TEXT NOT NULL,
	signature BLOB NOT NULL,
	encoding  TEXT NOT NULL,
	body      BLOB NOT NULL,
	PRIMARY KEY (terminal, first_seq, last_seq)
) STRICT;

-- Per terminal: how far the relay holds its uploads contiguously
-- (covered: what /v1/state answers, so an upload applied to hub.db but not
-- recorded here is sent again) and how far the centre holds its events
-- (forwarded, as last heard from the centre).
CREATE TABLE terminals (
	terminal     TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	covered      INTEGER NOT NULL DEFAULT 0,
	covered_hash TEXT NOT NULL DEFAULT '',
	forwarded    INTEGER NOT NULL DEFAULT 0,
	upstream     INTEGER NOT NULL DEFAULT 0 -- the centre's feed cursor for it
) STRICT;

-- The site feed the relay serves: feed events of its terminals, from
-- their uploads to the relay and from the centre's feed (events sent
-- straight to the centre), once each.
CREATE TABLE feed (
	terminal TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	name     TEXT NOT NULL,
	event    BLOB NOT NULL, -- the wire.Event as JSON
	PRIMARY KEY (terminal, seq)
) STRICT, WITHOUT ROWID;

-- The centre's revocations for the site, as it numbered them.
CREATE TABLE revocations (
	n    INTEGER PRIMARY KEY,
	body BLOB NOT NULL -- the wire.Revocation as JSON
) STRICT;
