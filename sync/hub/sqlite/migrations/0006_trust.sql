-- The trust boundary (issue 11).
--
-- A token enrolls a new terminal id, or (rekey_terminal set) gives a new key
-- to exactly that enrolled terminal; enrollment never renames or re-keys
-- any other.
ALTER TABLE enrollments ADD COLUMN rekey_terminal TEXT;

-- Who owns each record that later events may name: sales (whose id is also
-- their pass's id) and operators. Every event that names one is checked
-- against it before it is applied (sync/hub/authz.go).
CREATE TABLE records (
	id       BLOB PRIMARY KEY, -- the UUID's 16 bytes
	kind     TEXT NOT NULL,    -- sale, operator
	terminal INTEGER NOT NULL  -- terminals.no; the site is the terminal's
) STRICT, WITHOUT ROWID;

INSERT OR IGNORE INTO records (id, kind, terminal)
	SELECT unhex(replace(json_extract(CAST(e.payload AS TEXT), '$.id'), '-', '')), 'sale', e.k >> 40
	FROM events e
	WHERE e.type = 'sale.created' AND json_valid(CAST(e.payload AS TEXT))
		AND json_type(CAST(e.payload AS TEXT), '$.id') = 'text'
		AND length(json_extract(CAST(e.payload AS TEXT), '$.id')) = 36;
INSERT OR IGNORE INTO records (id, kind, terminal)
	SELECT unhex(replace(json_extract(CAST(e.payload AS TEXT), '$.id'), '-', '')), 'operator', e.k >> 40
	FROM events e
	WHERE e.type = 'operator.added' AND json_valid(CAST(e.payload AS TEXT))
		AND json_type(CAST(e.payload AS TEXT), '$.id') = 'text'
		AND length(json_extract(CAST(e.payload AS TEXT), '$.id')) = 36;
DELETE FROM records WHERE id IS NULL OR length(id) != 16;

-- A conflict is recorded once per kind, terminal, seq and reason: a batch
-- retried is one conflict, two different refused events at the same seq are
-- two.
DROP INDEX conflicts_once;
CREATE UNIQUE INDEX conflicts_once ON conflicts(kind, terminal, seq, reason);

-- Terminals revoked (stolen, retired), for the site feed: every verifier of
-- the site refuses the passes of the revoked keys except those the hub had
-- received before the revocation (honoured: sorted sale ids, one a line;
-- digest: hex SHA-256 of honoured).
CREATE TABLE revocations (
	n          INTEGER PRIMARY KEY,
	site       TEXT NOT NULL,
	terminal   TEXT NOT NULL,
	name       TEXT NOT NULL,
	key_ids    TEXT NOT NULL, -- the terminal's key ids, comma-separated
	revoked_at TEXT NOT NULL,
	honoured   TEXT NOT NULL,
	digest     TEXT NOT NULL
) STRICT;
CREATE INDEX revocations_site ON revocations(site, n);

-- Events the hub keeps in their terminal's chain but applies nowhere: in
-- events their type is 'quarantined' (so the report and the feed, which
-- read by type, never see them); here is the type as sent, for
-- TerminalEvents.
CREATE TABLE quarantine (
	k      INTEGER PRIMARY KEY, -- events.k
	type   TEXT NOT NULL,
	reason TEXT NOT NULL
) STRICT;
