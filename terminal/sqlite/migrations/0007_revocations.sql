-- Terminals of the site revoked at the hub (stolen, retired), from the
-- site feed: their passes are refused as revoked, except the honoured ones,
-- the sales the hub had received from them before the revocation
-- (docs/PASS-FORMAT.md, Revoked terminals).
CREATE TABLE revoked_issuers (
	key_id     TEXT NOT NULL, -- the certificate's key id, eight hex digits
	name       TEXT NOT NULL, -- the certificate's terminal name
	terminal   TEXT NOT NULL, -- the terminal id at the hub
	revoked_at TEXT NOT NULL,
	n          INTEGER NOT NULL, -- the hub's revocation number
	PRIMARY KEY (key_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE honoured_passes (
	pass_id  TEXT PRIMARY KEY,
	terminal TEXT NOT NULL
) STRICT, WITHOUT ROWID;
