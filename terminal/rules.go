package terminal

import (
	"fmt"
	"time"
)

// The rules below decide; the store loads what they need, calls them
// inside its transaction, and stores what they return.

// CanVoid says whether s can be voided: nil, or ECONFLICT with why.
// shiftClosed is whether the shift the sale belongs to is closed (its
// takings are counted: a refund undoes it instead).
func (s *Sale) CanVoid(shiftClosed bool) error {
	switch {
	case s.State == SaleVoided:
		return Errorf(ECONFLICT, "sale %d is already voided", s.Number)
	case s.Kind == "refund":
		return Errorf(ECONFLICT, "sale %d is a refund; refunds cannot be voided", s.Number)
	case s.State == SaleSettled:
		return Errorf(ECONFLICT, "sale %d was settled at exit; refund it instead", s.Number)
	case shiftClosed:
		return Errorf(ECONFLICT, "sale %d belongs to a closed shift: refund it instead", s.Number)
	}
	return nil
}

// Reversal is the refund of s: a sale of kind "refund" with s's lines,
// totals and tenders negated (each tender by what it kept, its amount less
// change), recorded by `by` in shift shiftID at at with id. The store
// numbers it. Only a paid or settled sale can be refunded, once (the
// store's unique refund_of refuses a second).
func (s *Sale) Reversal(id, shiftID, by string, at time.Time) (*Sale, error) {
	if s.Kind != "sale" || (s.State != SalePaid && s.State != SaleSettled) {
		return nil, Errorf(ECONFLICT, "sale %d is %s; only paid or settled sales can be refunded", s.Number, s.State)
	}
	rf := &Sale{
		ID: id, Kind: "refund", Terminal: s.Terminal, Site: s.Site, ShiftID: shiftID, Operator: by,
		At: at, State: SalePaid, Vehicle: s.Vehicle, CatalogueVersion: s.CatalogueVersion,
		Totals: Totals{}, RefundOf: s.ID,
	}
	for _, l := range s.Lines {
		l.Qty, l.Total = -l.Qty, -l.Total
		rf.Lines = append(rf.Lines, l)
	}
	for c, v := range s.Totals {
		rf.Totals[c] = -v
	}
	for _, t := range s.Tenders {
		rf.Tenders = append(rf.Tenders, Tender{Kind: t.Kind, Currency: t.Currency, Amount: -t.Net(), Reference: t.Reference, CardLast4: t.CardLast4, Bank: t.Bank})
	}
	return rf, nil
}

// QuoteSettlement says what the pass pc checked owes at now: the amount
// due written in it, plus overstay fees when the site's rule applies (the
// pass is past its validity and its grace). An expired pass is settled
// only under an overstay rule; a settled one, a refused one, and one with
// nothing due are refused. The quote is returned with the refusal, for
// the screen to show what the pass says.
func QuoteSettlement(cat *Catalogue, pc *PassCheck, now time.Time) (*SettleQuote, error) {
	q := &SettleQuote{Check: pc, Due: Totals{}, Totals: Totals{}}
	if pc.Refusal != nil && pc.Refusal.Reason != PassExpired {
		return q, pc.Refusal
	}
	if pc.State == "settled" {
		return q, RefusePass(PassAlreadyUsed, "this pass was already settled")
	}
	q.Due = pc.Pass.Due.Totals()
	site, _ := cat.Site(pc.Pass.Site)
	grace := time.Duration(site.OverstayGraceMinutes) * time.Minute
	if pc.Refusal != nil && grace <= 0 { // expired, and no overstay rule
		return q, pc.Refusal
	}
	if grace > 0 && now.After(pc.Pass.ValidUntil.Add(grace)) {
		days := int(now.Sub(pc.Pass.ValidUntil)/(24*time.Hour)) + 1
		var lines []LineRequest
		for _, pl := range pc.Pass.Party {
			lines = append(lines, LineRequest{Code: pl.Category + "-" + pl.Band, Qty: pl.Count})
		}
		if pc.Pass.SeatBand != "" {
			lines = append(lines, LineRequest{Code: pc.Pass.SeatBand, Qty: 1})
		}
		pr, err := cat.PriceOverstay(now, pc.Pass.Site, lines, days)
		if err != nil {
			return q, fmt.Errorf("price overstay: %w", err)
		}
		q.Overstay = pr.Lines
		q.Totals.AddAll(pr.Totals)
	}
	q.Totals.AddAll(q.Due)
	q.Totals.Clean()
	if len(q.Totals) == 0 {
		return q, Errorf(ECONFLICT, "nothing is due on this pass: it was paid at entry")
	}
	q.Check.Refusal = nil
	return q, nil
}

// PINLock is an operator's sign-in state: wrong PINs in a row, and the
// time a lockout ends (zero when none).
type PINLock struct {
	Failures    int
	LockedUntil time.Time
}

// SignIn is the lockout's transition for one sign-in attempt at now with
// a PIN that was right (ok) or not: the state to store, whether the
// lockout began with this attempt (it writes an event), and the refusal,
// nil when the operator signs in. A locked operator is refused whatever
// the PIN, and the attempt changes nothing; MaxPINFailures wrong PINs in a
// row lock for LockoutPeriod; a right PIN clears the count. loc is the
// site's time zone, for the time the lock ends.
func (l PINLock) SignIn(name string, ok bool, now time.Time, loc *time.Location) (next PINLock, lockedNow bool, refused error) {
	minutes := int(LockoutPeriod / time.Minute)
	if now.Before(l.LockedUntil) {
		at := SiteTime(l.LockedUntil, loc, "15:04")
		return l, false, Errorf(EUNAUTHORIZED, "%s is locked after %d wrong PINs until %s; try later or ask a supervisor",
			name, MaxPINFailures, at).WithID("locked", map[string]any{"Name": name, "N": MaxPINFailures, "Until": at})
	}
	if ok {
		return PINLock{}, false, nil
	}
	if l.Failures+1 >= MaxPINFailures {
		return PINLock{LockedUntil: now.Add(LockoutPeriod)}, true,
			Errorf(EUNAUTHORIZED, "wrong PIN: %s is now locked for %d minutes", name, minutes).
				WithID("locked_now", map[string]any{"Name": name, "Minutes": minutes})
	}
	next = PINLock{Failures: l.Failures + 1}
	left := MaxPINFailures - next.Failures
	return next, false, Errorf(EUNAUTHORIZED, "wrong PIN (%d tries left before a %d-minute lockout)", left, minutes).
		WithID("wrong_pin_tries", map[string]any{"Left": left, "Minutes": minutes})
}
