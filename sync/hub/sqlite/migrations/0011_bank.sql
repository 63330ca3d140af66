-- The site feed carries bank.used too (a bank reference taken at one lane
-- is refused at the others): the partial index lists the feed types
-- exactly as wire.FeedTypes does (TestFeedUsesItsIndex). 0010 is another
-- change's.
DROP INDEX events_feed;
CREATE INDEX events_feed ON events(k) WHERE type IN ('sale.voided', 'pass.settled', 'pass.used', 'operator.added', 'operator.pin_changed', 'operator.disabled', 'mpesa.used', 'bank.used');
