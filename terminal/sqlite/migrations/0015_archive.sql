-- The archive (docs/STORE.md): events the hub holds and that are older than
-- the site's retention leave the store for compressed files in the data
-- folder's archive/ folder. Each file is a run of the chain, first_seq to
-- last_seq, whose first event links to prev_hash; its row is the
-- checkpoint, signed with the terminal's key over the run's ends and the
-- file's SHA-256, so that an edited file or an edited checkpoint is named
-- by the audit. The files are a prefix of the chain, contiguous.
CREATE TABLE archives (
	first_seq  INTEGER PRIMARY KEY,
	last_seq   INTEGER NOT NULL UNIQUE,
	file       TEXT NOT NULL UNIQUE, -- its name under archive/
	prev_hash  TEXT NOT NULL,
	last_hash  TEXT NOT NULL,
	sha256     TEXT NOT NULL,
	signature  TEXT NOT NULL, -- base64 Ed25519, terminal key
	created_at TEXT NOT NULL,
	CHECK (last_seq >= first_seq)
) STRICT;

-- Events stay append-only, but for those an archive file holds.
DROP TRIGGER events_no_delete;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN OLD.seq > (SELECT coalesce(max(last_seq), 0) FROM archives)
BEGIN SELECT RAISE(ABORT, 'events are append-only: only archived events may be deleted'); END;
