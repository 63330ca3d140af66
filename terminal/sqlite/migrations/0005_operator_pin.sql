-- PIN changes travel like operators do (operator.pin_changed in the site
-- feed). scope is 'site' for operators a supervisor added (they travel)
-- and 'terminal' for the admin that init made (it stays); pin_set_at is
-- when the PIN held was set, so that of two changes made at two terminals
-- the later one stands wherever they arrive in whatever order.
ALTER TABLE operators ADD COLUMN scope TEXT NOT NULL DEFAULT 'site' CHECK (scope IN ('site', 'terminal'));
ALTER TABLE operators ADD COLUMN pin_set_at TEXT NOT NULL DEFAULT '';
UPDATE operators SET pin_set_at = created_at;
-- The admin of init: its operator.added event says scope "terminal", or,
-- written before scopes, has no actor (init adds it, no operator does).
-- (Payloads are BLOBs of JSON text: cast, so that no SQLite takes them for JSONB.)
UPDATE operators SET scope = 'terminal' WHERE id IN (
	SELECT json_extract(CAST(payload AS TEXT), '$.id') FROM events
	WHERE type = 'operator.added'
	  AND (json_extract(CAST(payload AS TEXT), '$.scope') = 'terminal'
	       OR (json_extract(CAST(payload AS TEXT), '$.scope') IS NULL AND actor = '')));
