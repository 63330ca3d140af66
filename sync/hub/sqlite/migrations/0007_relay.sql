-- Site relays (issue 14): a relay is enrolled like a terminal (its own
-- key, certified by the site authority, bound to one site) but marked, so
-- the hub lets it forward its site's terminals' signed uploads and bring
-- down their list, and never takes events of its own from it.
ALTER TABLE enrollments ADD COLUMN relay INTEGER NOT NULL DEFAULT 0;
ALTER TABLE terminals ADD COLUMN relay INTEGER NOT NULL DEFAULT 0;
