-- The hub's store: enrolled terminals, their events exactly once, site
-- authority keys, published catalogues and conflicts.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- One or more Ed25519 keys per site; the newest signs.
CREATE TABLE authorities (
	kid        TEXT PRIMARY KEY,
	site       TEXT NOT NULL,
	private    BLOB NOT NULL, -- PKCS #8 PEM
	created_at TEXT NOT NULL
) STRICT;
CREATE INDEX authorities_site ON authorities(site, created_at);

-- One-time enrollment tokens, by SHA-256; the token itself is never kept.
CREATE TABLE enrollments (
	token_hash  TEXT PRIMARY KEY,
	site        TEXT NOT NULL,
	name        TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	expires_at  TEXT NOT NULL,
	used_at     TEXT,
	terminal_id TEXT,
	public_key  BLOB
) STRICT;

-- last_seq and last_hash are the terminal's last applied event: the next
-- batch must start at last_seq + 1 and chain to last_hash. They change in
-- the transaction that inserts the events.
CREATE TABLE terminals (
	id          TEXT PRIMARY KEY,
	site        TEXT NOT NULL,
	name        TEXT NOT NULL,
	public_key  BLOB NOT NULL,
	certificate TEXT NOT NULL,
	enrolled_at TEXT NOT NULL,
	revoked_at  TEXT,
	last_seq    INTEGER NOT NULL DEFAULT 0,
	last_hash   TEXT NOT NULL DEFAULT '',
	events      INTEGER NOT NULL DEFAULT 0,
	last_seen   TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX terminals_name ON terminals(site, name) WHERE revoked_at IS NULL;

-- Every terminal's events, exactly once: by (terminal, seq) and by id.
-- n is the hub's arrival order.
CREATE TABLE events (
	n           INTEGER PRIMARY KEY,
	terminal    TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	id          TEXT NOT NULL,
	type        TEXT NOT NULL,
	at          TEXT NOT NULL,
	actor       TEXT NOT NULL,
	payload     BLOB NOT NULL, -- the JSON bytes exactly as the terminal hashed them
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL,
	received_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX events_seq ON events(terminal, seq);
CREATE UNIQUE INDEX events_id ON events(id);
-- The site feed reads only these types: a small partial index.
CREATE INDEX events_feed ON events(terminal, seq) WHERE type IN ('sale.voided', 'pass.settled', 'pass.used');

CREATE TABLE conflicts (
	id          INTEGER PRIMARY KEY,
	kind        TEXT NOT NULL,
	site        TEXT NOT NULL,
	terminal    TEXT NOT NULL,
	seq         INTEGER NOT NULL DEFAULT 0,
	reason      TEXT NOT NULL,
	at          TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX conflicts_once ON conflicts(kind, terminal, seq);

-- Signed catalogue versions; seq is the publication number (its time in
-- Unix milliseconds, always above the site's previous one).
CREATE TABLE catalogues (
	site         TEXT NOT NULL,
	seq          INTEGER NOT NULL,
	version      TEXT NOT NULL,
	body         BLOB NOT NULL,
	signature    BLOB NOT NULL,
	kid          TEXT NOT NULL,
	published_at TEXT NOT NULL,
	PRIMARY KEY (site, seq)
) STRICT;
