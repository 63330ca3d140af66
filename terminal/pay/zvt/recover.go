package zvt

import (
	"context"
	"fmt"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Pending is what the till writes durably just before it sends an
// authorisation, and clears when the result is recorded. A Pending left
// over after a crash or a lost cable is settled with Recover.
type Pending struct {
	Reference string         `json:"reference"` // the till's id for the payment
	Amount    terminal.Money `json:"amount"`
	Started   time.Time      `json:"started"` // till clock just before 06 01 was sent
	// LastTrace is the PDQ trace number of the last transaction whose
	// result the till did receive (any outcome), or 0 if unknown. It lets
	// recovery tell "the PDQ never started this payment" from "this payment
	// is the PDQ's last".
	LastTrace int `json:"last_trace,omitempty"`
}

// Outcome of recovering a Pending payment.
type Outcome string

const (
	// OutcomeCharged: the PDQ approved this payment. Record it as paid
	// with the Result's trace, receipt and approval; never charge again.
	OutcomeCharged Outcome = "charged"
	// OutcomeNotCharged: the PDQ has no approved transaction for it. The
	// sale is unpaid; charging again is safe.
	OutcomeNotCharged Outcome = "not_charged"
	// OutcomeUnknown: the PDQ's last transaction does not tell. The
	// attendant checks the PDQ (last receipt, journal) and settles by hand
	// (manual mode: approval code and last 4 digits).
	OutcomeUnknown Outcome = "unknown"
)

// Recovery is the verdict on a Pending payment.
type Recovery struct {
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason"`         // for the attendant
	Last    *Result `json:"last,omitempty"` // the PDQ's last transaction, if it has one
}

// Recover asks the PDQ for its last transaction (LastResult, Repeat
// Receipt) and matches it against p with Match. It never charges. When the
// PDQ cannot be asked, the error is returned with OutcomeUnknown.
func (c *Client) Recover(ctx context.Context, p Pending) (Recovery, error) {
	last, found, err := c.LastResult(ctx)
	if err != nil {
		return Recovery{Outcome: OutcomeUnknown, Reason: terminal.ErrorMessage(err)}, err
	}
	rec := Match(p, last, found, c.cfg.ClockSkew, c.cfg.Timeouts.Transaction)
	c.cfg.Logger.Info("zvt recovery", "reference", p.Reference, "outcome", rec.Outcome, "reason", rec.Reason)
	return rec, nil
}

// Match decides what a PDQ's last transaction says about p. The ZVT subset
// carries no till reference to the PDQ, so the correlation is:
//
//  0. the last transaction is a reversal (BMP 37) → unknown;
//  1. no transaction on the PDQ → not charged;
//  2. p.LastTrace known and the PDQ's last trace is still p.LastTrace → the
//     PDQ never recorded this payment → not charged;
//  3. same amount and currency, and the PDQ's time within [Started − skew,
//     Started + window + skew] (or, when the PDQ sent no time, a trace
//     number that moved past p.LastTrace) → this payment: charged if
//     approved, not charged if declined;
//  4. p.LastTrace unknown and the PDQ's last transaction is older than
//     Started − skew → not charged;
//  5. anything else (someone used the PDQ standalone since, clocks too far
//     apart) → unknown.
func Match(p Pending, last Result, found bool, skew, window time.Duration) Recovery {
	if !found {
		return Recovery{Outcome: OutcomeNotCharged, Reason: "the card terminal has no transaction on record, so this payment was not charged"}
	}
	l := &last
	desc := describe(last)
	if last.ReversalOf != 0 {
		return Recovery{OutcomeUnknown, fmt.Sprintf("the card terminal's last transaction is a reversal of trace %d (%s): check the PDQ's receipts or journal, then settle this payment by hand", last.ReversalOf, desc), l}
	}
	if p.LastTrace != 0 && last.Trace == p.LastTrace {
		return Recovery{OutcomeNotCharged, fmt.Sprintf("the card terminal's last transaction (%s) is the one before this payment, so this payment was not charged", desc), l}
	}
	sameMoney := last.Amount.Minor == p.Amount.Minor &&
		(last.Amount.Currency == "" || last.Amount.Currency == p.Amount.Currency)
	hasTime := !last.Time.IsZero()
	inWindow := hasTime && !last.Time.Before(p.Started.Add(-skew)) && !last.Time.After(p.Started.Add(window+skew))
	traceMoved := p.LastTrace != 0 && last.Trace != 0 && last.Trace != p.LastTrace
	if sameMoney && (inWindow || (!hasTime && traceMoved)) {
		if last.Approved {
			return Recovery{OutcomeCharged, fmt.Sprintf("the card terminal approved this payment (%s): record it as paid, do not charge again", desc), l}
		}
		return Recovery{OutcomeNotCharged, fmt.Sprintf("the card terminal declined this payment (%s): %s", desc, last.Message), l}
	}
	if p.LastTrace == 0 && hasTime && last.Time.Before(p.Started.Add(-skew)) {
		return Recovery{OutcomeNotCharged, fmt.Sprintf("the card terminal's last transaction (%s) is older than this payment, so this payment was not charged", desc), l}
	}
	return Recovery{OutcomeUnknown, fmt.Sprintf("the card terminal's last transaction (%s) does not match this payment of %s: check the PDQ's receipts or journal, then settle it by hand", desc, p.Amount), l}
}

func describe(r Result) string {
	s := r.Amount.String()
	if r.Amount.Currency == "" {
		s = fmt.Sprintf("amount %d", r.Amount.Minor)
	}
	if r.Approved {
		s += " approved"
	} else {
		s += " declined"
	}
	if r.Trace != 0 {
		s += fmt.Sprintf(", trace %d", r.Trace)
	}
	if r.Receipt != 0 {
		s += fmt.Sprintf(", receipt %d", r.Receipt)
	}
	if r.Approval != "" {
		s += ", approval " + r.Approval
	}
	if !r.Time.IsZero() {
		s += ", at " + r.Time.Format("2006-01-02 15:04")
	}
	return s
}
