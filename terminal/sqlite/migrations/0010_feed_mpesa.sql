-- M-PESA receipt codes taken at the other lanes of the site, from the
-- feed's mpesa.used events: a code taken once at the park is refused at
-- every lane that has heard of it (as mpesa_codes refuses it at this one).
-- The first lane heard of stands.
CREATE TABLE feed_mpesa_codes (
	code     TEXT PRIMARY KEY,
	terminal TEXT NOT NULL, -- the lane's name
	at       TEXT NOT NULL
) STRICT;
