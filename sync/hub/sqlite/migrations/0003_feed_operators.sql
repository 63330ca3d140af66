-- The site feed carries operator.added too (operators added by a
-- supervisor are the site's): the feed's partial index lists the feed
-- types exactly as the feed query does (wire.FeedTypes), or the query
-- planner cannot use it.
DROP INDEX events_feed;
CREATE INDEX events_feed ON events(k) WHERE type IN ('sale.voided', 'pass.settled', 'pass.used', 'operator.added');
