-- The site feed carries ticket.redeemed too (embedded store
-- 0012_feed_tickets.sql): the partial index lists the feed types exactly
-- as wire.FeedTypes does (TestFeedUsesItsIndex).
DROP INDEX events_feed;
CREATE INDEX events_feed ON events (terminal, seq)
	WHERE type IN ('sale.voided', 'pass.settled', 'pass.used', 'operator.added', 'operator.pin_changed', 'operator.disabled', 'mpesa.used', 'bank.used', 'ticket.redeemed');
