-- Compact passes (issue 20): the peer certificates each terminal holds, as
-- its last feed request listed them (see the SQLite store's 0016).
CREATE TABLE cert_holds (
	terminal_id TEXT NOT NULL REFERENCES terminals(id),
	key_id      TEXT NOT NULL,
	PRIMARY KEY (terminal_id, key_id)
);
