-- Interrupted print jobs (issue 20): where a job stopped part way (its
-- bytes up to resume_at are on the paper, whole lines and images only) and
-- a digest of the bytes that offset belongs to. A job is laid out again at
-- each attempt; the next attempt goes on from resume_at only if the layout
-- gives the very same bytes, else it prints whole.
ALTER TABLE print_jobs ADD COLUMN resume_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE print_jobs ADD COLUMN resume_sum TEXT NOT NULL DEFAULT '';

-- Compact passes (issue 20). peer_certs: the certificates of the site's
-- other terminals, from the feed (checked against the site authority), so
-- their compact passes verify here; the feed request lists their key ids
-- (holds). compact_keys: this terminal's certificates the hub's last feed
-- answer promised every verifier of the site holds: passes signed under
-- them leave the certificate out. Replaced at every feed answer.
CREATE TABLE peer_certs (
	key_id      TEXT PRIMARY KEY, -- eight hex digits
	terminal_id TEXT NOT NULL,
	name        TEXT NOT NULL,
	pem         TEXT NOT NULL
) STRICT;

CREATE TABLE compact_keys (
	key_id TEXT PRIMARY KEY
) STRICT;
