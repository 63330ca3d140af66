-- An operator a supervisor disabled (a clerk who left) can no longer sign
-- in, here or, once synced, at any terminal of the site
-- (operator.disabled in the site feed). The row stays: shifts and sales
-- name it.
ALTER TABLE operators ADD COLUMN disabled_at TEXT NOT NULL DEFAULT '';
