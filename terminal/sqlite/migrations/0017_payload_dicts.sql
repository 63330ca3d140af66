-- Event payloads stored compressed (issue 19, docs/STORE.md "Payloads
-- compressed"). A payload row is either the exact bytes the event's hash
-- covers (every row made before this migration: JSON, starting with '{')
-- or a format byte 0x01, the id of a dictionary below as a uvarint, and
-- those same bytes as a raw DEFLATE stream (RFC 1951) with the dictionary
-- preset. A dictionary is a typical payload of this terminal (the first
-- sale of a shift, catalogue version and pass key), kept here so that every
-- row can always be decoded; like the events, it is never changed or
-- deleted (an edited dictionary decodes to other bytes, which the audit
-- names by the event's hash).
CREATE TABLE payload_dicts (
	id         INTEGER PRIMARY KEY,
	tag        TEXT NOT NULL, -- what it was made for: catalogue version, pass key, shift
	content    BLOB NOT NULL,
	created_at TEXT NOT NULL
) STRICT;
CREATE TRIGGER payload_dicts_no_update BEFORE UPDATE ON payload_dicts
BEGIN SELECT RAISE(ABORT, 'payload dictionaries are append-only'); END;
CREATE TRIGGER payload_dicts_no_delete BEFORE DELETE ON payload_dicts
BEGIN SELECT RAISE(ABORT, 'payload dictionaries are append-only'); END;
