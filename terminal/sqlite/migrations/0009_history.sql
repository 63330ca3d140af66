-- Reads that touch only what they answer, without one more index written
-- by every sale (the sale's commit is the gate's pace):
--
-- A shift's sales and settlements are those numbered from where the tables
-- stood when it opened: the Z-report reads that range of the rowid, not
-- the whole table. 0 (the default) reads from the start.
ALTER TABLE shifts ADD COLUMN first_sale INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shifts ADD COLUMN first_settlement INTEGER NOT NULL DEFAULT 0;
UPDATE shifts SET first_sale = f.n
	FROM (SELECT shift_id, min(number) AS n FROM sales GROUP BY shift_id) AS f
	WHERE f.shift_id = shifts.id AND shifts.closed_at IS NULL;
UPDATE shifts SET first_settlement = f.n
	FROM (SELECT shift_id, min(rowid) AS n FROM settlements GROUP BY shift_id) AS f
	WHERE f.shift_id = shifts.id AND shifts.closed_at IS NULL;

-- For each hour (UTC, 'YYYY-MM-DDTHH') in which a sale was made, the
-- smallest sale number made in it. Numbers only grow, so every sale made
-- at or after a time T is numbered at least min(first) over the hours from
-- T's: `lango sales --since T` reads from there. A sale writes a row only
-- when it is the first of its hour (INSERT … ON CONFLICT DO NOTHING), so a
-- clock set back is covered too.
CREATE TABLE sale_hours (
	hour  TEXT PRIMARY KEY,
	first INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO sale_hours (hour, first) SELECT substr(at, 1, 13), min(number) FROM sales GROUP BY 1;
