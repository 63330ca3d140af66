-- The report's state, kept by Apply in the events' transaction
-- (sync/hub/reportstate.go), so that the report reads what it shows and
-- not every event ever stored. The store fills these tables from the
-- events it holds when it opens with a state of another version
-- (meta 'report_state'), which it does after this migration.
CREATE TABLE report_facts (
	grp      TEXT NOT NULL, -- pass, ticket, operator, mpesa
	key      TEXT NOT NULL, -- what the facts name
	kind     TEXT NOT NULL,
	site     TEXT NOT NULL,
	terminal TEXT NOT NULL, -- terminals.id
	seq      INTEGER NOT NULL,
	n        INTEGER NOT NULL,
	body     BLOB NOT NULL,
	PRIMARY KEY (grp, key, kind, site, terminal, seq, n)
) WITHOUT ROWID;
-- Groups of facts that could make a conflict: the report reads these.
CREATE TABLE report_hot (
	grp TEXT NOT NULL,
	key TEXT NOT NULL,
	PRIMARY KEY (grp, key)
) WITHOUT ROWID;
-- Takings by the terminal whose events changed them (no two terminals'
-- transactions wait on one row), summed by the report.
CREATE TABLE report_takings (
	terminal TEXT NOT NULL,
	site     TEXT NOT NULL,
	tender   TEXT NOT NULL,
	currency TEXT NOT NULL,
	amount   INTEGER NOT NULL,
	tenders  INTEGER NOT NULL,
	PRIMARY KEY (terminal, site, tender, currency)
) WITHOUT ROWID;
CREATE TABLE report_unsettled (
	site     TEXT NOT NULL,
	sale_id  TEXT NOT NULL,
	terminal TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	body     BLOB NOT NULL,
	PRIMARY KEY (site, sale_id, terminal, seq)
) WITHOUT ROWID;
CREATE TABLE report_refused (
	terminal TEXT PRIMARY KEY,
	body     BLOB NOT NULL
);
DELETE FROM meta WHERE key = 'report_state';

-- The forwards by state and kind, kept by triggers in the transactions
-- that add or move them (the report and /metrics read these, not a count
-- of every forward ever made), and an index for the refused ones listed.
CREATE TABLE forward_counts (
	state TEXT NOT NULL,
	kind  TEXT NOT NULL,
	n     INTEGER NOT NULL,
	PRIMARY KEY (state, kind)
) WITHOUT ROWID;
INSERT INTO forward_counts (state, kind, n) SELECT state, kind, count(*) FROM forwards GROUP BY state, kind;
CREATE TRIGGER forward_counted AFTER INSERT ON forwards BEGIN
	INSERT INTO forward_counts (state, kind, n) VALUES (NEW.state, NEW.kind, 1) ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER forward_recounted AFTER UPDATE OF state, kind ON forwards WHEN OLD.state != NEW.state OR OLD.kind != NEW.kind BEGIN
	UPDATE forward_counts SET n = n - 1 WHERE state = OLD.state AND kind = OLD.kind;
	INSERT INTO forward_counts (state, kind, n) VALUES (NEW.state, NEW.kind, 1) ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER forward_uncounted AFTER DELETE ON forwards BEGIN
	UPDATE forward_counts SET n = n - 1 WHERE state = OLD.state AND kind = OLD.kind;
END;
CREATE INDEX forwards_refused ON forwards (n) WHERE state = 'refused';
