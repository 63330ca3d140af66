-- The M-PESA ledger, as the embedded store keeps it (0014_mpesa.sql): a
-- payment is one row per receipt code, whichever way it came and to
-- whichever hub process; the primary key, not a process's memory, makes
-- it exactly once.
CREATE TABLE mpesa_payments (
	code        text PRIMARY KEY,
	amount      bigint NOT NULL,
	account     text NOT NULL,
	short_code  text NOT NULL,
	at          text NOT NULL,
	source      text NOT NULL,
	received_at text NOT NULL
);
CREATE INDEX mpesa_payments_paybill ON mpesa_payments(short_code, at);
CREATE TABLE mpesa_queries (
	code            text PRIMARY KEY,
	conversation_id text NOT NULL UNIQUE,
	asked_at        text NOT NULL,
	result_code     bigint,
	result_desc     text NOT NULL DEFAULT '',
	answered_at     text
);
-- How far each paybill's payments were pulled (Pull Transactions API).
CREATE TABLE mpesa_pulls (
	short_code text PRIMARY KEY,
	through    text NOT NULL
);
