-- Bank tenders (issue 15): a transfer's or deposit slip's reference is
-- accepted once per site, as an M-PESA code is. bank_refs holds the
-- references taken here (for a sale, a settlement or a shift's cash
-- deposit); feed_bank_refs those the feed's bank.used events say the other
-- lanes took (the first lane heard of stands).
CREATE TABLE bank_refs (
	bank          TEXT NOT NULL,
	reference     TEXT NOT NULL,
	sale_id       TEXT REFERENCES sales(id),
	settlement_id TEXT,
	deposit_id    TEXT,
	currency      TEXT NOT NULL,
	amount        INTEGER NOT NULL,
	PRIMARY KEY (bank, reference)
) STRICT;

CREATE TABLE feed_bank_refs (
	bank      TEXT NOT NULL,
	reference TEXT NOT NULL,
	terminal  TEXT NOT NULL, -- the lane's name
	at        TEXT NOT NULL,
	PRIMARY KEY (bank, reference)
) STRICT;

-- A supervisor's banking of a closed shift's cash (lango deposit).
CREATE TABLE deposits (
	id        TEXT PRIMARY KEY,
	shift_id  TEXT NOT NULL UNIQUE REFERENCES shifts(id),
	operator  TEXT NOT NULL,
	bank      TEXT NOT NULL,
	reference TEXT NOT NULL,
	currency  TEXT NOT NULL,
	amount    INTEGER NOT NULL,
	at        TEXT NOT NULL
) STRICT;
