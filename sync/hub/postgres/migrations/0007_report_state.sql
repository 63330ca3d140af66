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

-- The forwards by state and kind, kept by triggers in the transactions
-- that add or move them (the report and /metrics read these, not a count
-- of every forward ever made). Each connection counts in a shard of its
-- own (its backend pid), so that processes adding forwards at once do not
-- wait on one row; the reader sums. And an index for the refused ones
-- listed.
CREATE TABLE forward_counts (
	state text NOT NULL,
	kind  text NOT NULL,
	shard integer NOT NULL,
	n     bigint NOT NULL,
	PRIMARY KEY (state, kind, shard)
);
INSERT INTO forward_counts (state, kind, shard, n) SELECT state, kind, 0, count(*) FROM forwards GROUP BY state, kind;
CREATE FUNCTION forward_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		IF TG_OP = 'UPDATE' AND OLD.state = NEW.state AND OLD.kind = NEW.kind THEN
			RETURN NULL;
		END IF;
		INSERT INTO forward_counts (state, kind, shard, n) VALUES (OLD.state, OLD.kind, pg_backend_pid() % 16, -1)
			ON CONFLICT (state, kind, shard) DO UPDATE SET n = forward_counts.n - 1;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO forward_counts (state, kind, shard, n) VALUES (NEW.state, NEW.kind, pg_backend_pid() % 16, 1)
			ON CONFLICT (state, kind, shard) DO UPDATE SET n = forward_counts.n + 1;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER forward_counted AFTER INSERT OR UPDATE OF state, kind OR DELETE ON forwards FOR EACH ROW EXECUTE FUNCTION forward_count();
CREATE INDEX forwards_refused ON forwards (n) WHERE state = 'refused';
