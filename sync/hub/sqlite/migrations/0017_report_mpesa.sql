-- The report's M-PESA section, kept as the tenders and the ledger change
-- (sync/hub/reportmpesa.go): one line per code, its body only when the
-- code is not matched (the report lists those), and the codes' totals by
-- the terminal that counts them, status and paybill (the report sums
-- them over terminals). Report state version 3 (also bank.used facts)
-- rebuilds them from the events when the store next opens.
CREATE TABLE report_mpesa_codes (
	code     TEXT PRIMARY KEY,
	terminal TEXT NOT NULL,
	status   TEXT NOT NULL,
	paybill  TEXT NOT NULL,
	recorded INTEGER NOT NULL,
	paid     INTEGER NOT NULL,
	line     BLOB
) WITHOUT ROWID;
CREATE INDEX report_mpesa_exceptions ON report_mpesa_codes(code) WHERE line IS NOT NULL;
CREATE TABLE report_mpesa_totals (
	terminal TEXT NOT NULL,
	status   TEXT NOT NULL,
	paybill  TEXT NOT NULL,
	codes    INTEGER NOT NULL,
	recorded INTEGER NOT NULL,
	paid     INTEGER NOT NULL,
	PRIMARY KEY (terminal, status, paybill)
) WITHOUT ROWID;
DELETE FROM meta WHERE key = 'report_state';
