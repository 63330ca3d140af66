-- The M-PESA ledger, in the hub's own database (it was DATA/mpesa.db,
-- which the first open imports once: sync/hub/mpesa ImportFile). A
-- payment is one row per receipt code, whichever way it came (C2B
-- confirmation, Transaction Status result, Pull Transactions page) and
-- however often: the key, not a process, makes it exactly once.
CREATE TABLE mpesa_payments (
	code        TEXT PRIMARY KEY,
	amount      INTEGER NOT NULL,
	account     TEXT NOT NULL,
	short_code  TEXT NOT NULL,
	at          TEXT NOT NULL,
	source      TEXT NOT NULL,
	received_at TEXT NOT NULL
) STRICT;
CREATE INDEX mpesa_payments_paybill ON mpesa_payments(short_code, at);
CREATE TABLE mpesa_queries (
	code            TEXT PRIMARY KEY,
	conversation_id TEXT NOT NULL UNIQUE,
	asked_at        TEXT NOT NULL,
	result_code     INTEGER,
	result_desc     TEXT NOT NULL DEFAULT '',
	answered_at     TEXT
) STRICT;
-- How far each paybill's payments were pulled (Pull Transactions API).
CREATE TABLE mpesa_pulls (
	short_code TEXT PRIMARY KEY,
	through    TEXT NOT NULL
) STRICT;
