-- Passes seen by this terminal: marks that refuse a second entry, a second
-- settlement, or a revoked pass, whether the mark was made here or learnt
-- from the site feed (terminal names who made it).
CREATE TABLE pass_marks (
	pass_id  TEXT NOT NULL,
	mark     TEXT NOT NULL CHECK (mark IN ('used', 'settled', 'revoked')),
	terminal TEXT NOT NULL,
	at       TEXT NOT NULL,
	ref      TEXT NOT NULL DEFAULT '', -- settlement id, sale id, or reason
	PRIMARY KEY (pass_id, mark, terminal)
) STRICT;

-- Settlements of deferred passes at exit: the pass may come from a terminal
-- this store has never seen, so a settlement stands on its own.
CREATE TABLE settlements (
	id              TEXT PRIMARY KEY,
	pass_id         TEXT NOT NULL,
	issuer_terminal TEXT NOT NULL,
	sale_id         TEXT, -- the sale, when it was made here
	shift_id        TEXT NOT NULL REFERENCES shifts(id),
	operator_id     TEXT NOT NULL REFERENCES operators(id),
	at              TEXT NOT NULL,
	doc             TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX settlements_pass ON settlements(pass_id);
