-- Compact passes (issue 20): the peer certificates each terminal holds, as
-- its last feed request listed them. An issuer gets compact passes promised
-- for a certificate once every enrolled, unrevoked terminal of its site
-- holds it.
CREATE TABLE cert_holds (
	terminal_id TEXT NOT NULL REFERENCES terminals(id),
	key_id      TEXT NOT NULL, -- eight hex digits
	PRIMARY KEY (terminal_id, key_id)
) STRICT, WITHOUT ROWID;
