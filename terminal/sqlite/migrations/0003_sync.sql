-- Sync with the hub (docs/SYNC-PROTOCOL.md): which hub this store talks to,
-- the hub's clock, the catalogue publication applied, and the site feed.
-- None of this is in the outbox: it is bookkeeping about other machines'
-- records, which the hub and the feed rows keep.

-- hub_id names the hub that acknowledged acked_seq: a different hub (or a
-- new hub database) makes the terminal ask where it stands before trusting
-- acked_seq. clock_offset_ms is hub clock minus terminal clock, used to sign
-- requests; event times keep the terminal's own clock. last_contact is the
-- last answer of any kind from the hub; rewinds counts the times the hub
-- was found behind acked_seq (restored from a backup) and events were sent
-- again.
ALTER TABLE sync_state ADD COLUMN hub_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_state ADD COLUMN clock_offset_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN last_contact TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_state ADD COLUMN catalogue_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN rewinds INTEGER NOT NULL DEFAULT 0;

-- The other terminals of the site and the feed cursor for each: every event
-- of that terminal up to seq has been read (the feed carries only the types
-- that matter here, so rows may skip seqs). Cursors are the other
-- terminals' own seqs, not hub positions, so a hub restored from a backup
-- cannot make a terminal skip or repeat part of the feed.
CREATE TABLE sync_peers (
	terminal TEXT PRIMARY KEY, -- terminal id (UUID)
	name     TEXT NOT NULL,
	seq      INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Events of the other terminals of the site, as the hub relayed them.
CREATE TABLE sync_feed (
	terminal    TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	id          TEXT NOT NULL,
	type        TEXT NOT NULL,
	at          TEXT NOT NULL,
	actor       TEXT NOT NULL DEFAULT '',
	payload     TEXT NOT NULL,
	hash        TEXT NOT NULL,
	received_at TEXT NOT NULL,
	PRIMARY KEY (terminal, seq)
) STRICT;
