-- Interrupted print jobs (issue 20): where a job stopped part way (its
-- bytes up to resume_at are on the paper, whole lines and images only) and
-- a digest of the bytes that offset belongs to. A job is laid out again at
-- each attempt; the next attempt goes on from resume_at only if the layout
-- gives the very same bytes, else it prints whole.
ALTER TABLE print_jobs ADD COLUMN resume_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE print_jobs ADD COLUMN resume_sum TEXT NOT NULL DEFAULT '';
