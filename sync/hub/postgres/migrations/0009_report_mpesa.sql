-- The report's M-PESA section, kept as the tenders and the ledger change
-- (sync/hub/reportmpesa.go): one line per code, its body only when the
-- code is not matched (the report lists those), and the codes' totals by
-- the terminal that counts them, status and paybill (the report sums
-- them over terminals: no two terminals' transactions wait on one row).
-- Report state version 3 (also bank.used facts) rebuilds them from the
-- events at the next migrate.
CREATE TABLE report_mpesa_codes (
	code     text PRIMARY KEY,
	terminal text NOT NULL,
	status   text NOT NULL,
	paybill  text NOT NULL,
	recorded bigint NOT NULL,
	paid     bigint NOT NULL,
	line     bytea
);
CREATE INDEX report_mpesa_exceptions ON report_mpesa_codes (code) WHERE line IS NOT NULL;
CREATE TABLE report_mpesa_totals (
	terminal text NOT NULL,
	status   text NOT NULL,
	paybill  text NOT NULL,
	codes    bigint NOT NULL,
	recorded bigint NOT NULL,
	paid     bigint NOT NULL,
	PRIMARY KEY (terminal, status, paybill)
);
DELETE FROM meta WHERE key = 'report_state';
