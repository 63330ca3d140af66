-- The site feed carries operator.pin_changed too: the partial index lists
-- the feed types exactly as wire.FeedTypes does (TestFeedUsesItsIndex).
DROP INDEX events_feed;
CREATE INDEX events_feed ON events(k) WHERE type IN ('sale.voided', 'pass.settled', 'pass.used', 'operator.added', 'operator.pin_changed');
