package sqlite

import (
	"context"
	"errors"

	"github.com/lango-pos/lango/terminal"
)

// errTrial ends a trial's transaction: rolled back, nothing stored.
var errTrial = errors.New("trial: rolled back")

type trialKey struct{}

// isTrial reports whether ctx asks update to roll back what succeeded.
func isTrial(ctx context.Context) bool { return ctx.Value(trialKey{}) != nil }

// TrySell runs Sell in full (shift, pricing, tenders, pass, event, print
// job) and rolls it back: it returns the sale Sell would commit now, or
// the refusal Sell would give, and stores nothing. The card desk calls it
// before the PDQ is asked to charge, so that whatever Sell would refuse
// (a price that changed since the customer was quoted, a plate missing, no
// open shift) is refused before the card is charged, never after.
//
// A card tender to be charged is given with a placeholder reference.
func (db *DB) TrySell(ctx context.Context, op *terminal.Operator, req terminal.SaleRequest, passes terminal.PassIssuer) (*terminal.Sale, error) {
	var sale *terminal.Sale
	res, err := db.Sell(context.WithValue(ctx, trialKey{}, true), op, req, trialIssuer{passes, &sale})
	if errors.Is(err, errTrial) {
		return sale, nil
	}
	if err != nil {
		return nil, err
	}
	return res.Sale, nil // not reached: update rolls a trial back
}

// trialIssuer keeps the sale Sell builds in a trial (it issues the pass
// last but for the event and the print job).
type trialIssuer struct {
	terminal.PassIssuer
	sale **terminal.Sale
}

func (t trialIssuer) IssuePass(ctx context.Context, s *terminal.Sale, cat *terminal.Catalogue) (string, error) {
	*t.sale = s
	if t.PassIssuer == nil {
		return "", nil
	}
	return t.PassIssuer.IssuePass(ctx, s, cat)
}
