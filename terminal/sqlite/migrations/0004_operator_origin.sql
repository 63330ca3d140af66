-- Where an operator was added: '' on this terminal, else the name of the
-- terminal of the site it came from through the site feed. Two terminals
-- can add the same name while offline; a terminal keeps its own, and of
-- those from elsewhere the earliest added (then the smallest id), so that
-- every other terminal of the site ends with the same one whatever order
-- the feed brings them in.
ALTER TABLE operators ADD COLUMN origin TEXT NOT NULL DEFAULT '';
