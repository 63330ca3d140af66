-- The passes still owed (`lango unsettled`, the exit lane's list, the
-- supervisor's) are the deferred sales: a partial index holds only those,
-- so the list reads them, not every sale ever made (at a million sales, a
-- second's scan). A paid sale, the most of them, writes nothing to it; a
-- deferred one writes one more page, and its settlement or void takes the
-- entry out.
CREATE INDEX sales_deferred ON sales(number) WHERE state = 'deferred' AND kind = 'sale';
