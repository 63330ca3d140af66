-- The report's state, kept by Apply in the events' transaction
-- (sync/hub/reportstate.go), so that the report reads what it shows and
-- not every event ever stored. Migrate fills these tables from the events
-- held when the state was built by another version of its rules (meta
-- 'report_state'), which it is after this migration. 0004-0006 are other
-- changes'.
CREATE TABLE report_facts (
	grp      text NOT NULL, -- pass, ticket, operator, mpesa
	key      text NOT NULL, -- what the facts name
	kind     text NOT NULL,
	site     text NOT NULL,
	terminal text NOT NULL, -- terminals.id
	seq      bigint NOT NULL,
	n        integer NOT NULL,
	body     bytea NOT NULL,
	PRIMARY KEY (grp, key, kind, site, terminal, seq, n)
);
-- Groups of facts that could make a conflict: the report reads these.
CREATE TABLE report_hot (
	grp text NOT NULL,
	key text NOT NULL,
	PRIMARY KEY (grp, key)
);
-- Takings by the terminal whose events changed them: no two terminals'
-- transactions wait on one row. The report sums them.
CREATE TABLE report_takings (
	terminal text NOT NULL,
	site     text NOT NULL,
	tender   text NOT NULL,
	currency text NOT NULL,
	amount   bigint NOT NULL,
	tenders  bigint NOT NULL,
	PRIMARY KEY (terminal, site, tender, currency)
);
CREATE TABLE report_unsettled (
	site     text NOT NULL,
	sale_id  text NOT NULL,
	terminal text NOT NULL,
	seq      bigint NOT NULL,
	body     bytea NOT NULL,
	PRIMARY KEY (site, sale_id, terminal, seq)
);
CREATE TABLE report_refused (
	terminal text PRIMARY KEY,
	body     bytea NOT NULL
);
DELETE FROM meta WHERE key = 'report_state';
