package bank

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Tender is a bank reference a terminal recorded (its bank.used event): a
// transfer or slip tendered for a sale or a settlement, or a supervisor's
// deposit of a shift's cash.
type Tender struct {
	Kind         string            `json:"kind"` // tender, deposit
	Bank         string            `json:"bank"`
	Reference    string            `json:"reference"`
	Currency     terminal.Currency `json:"currency"`
	Amount       int64             `json:"amount"`
	Site         string            `json:"site"`
	Terminal     string            `json:"terminal"`
	SaleID       string            `json:"sale_id,omitempty"`
	SettlementID string            `json:"settlement_id,omitempty"`
	ShiftID      string            `json:"shift_id,omitempty"`
	At           time.Time         `json:"at"`
}

// Status of a tender in the report.
const (
	Matched        = "matched"         // the statement has the reference with the amount
	AmountMismatch = "amount_mismatch" // the statement has the reference with another amount
	UnknownAtBank  = "unknown_at_bank" // a statement covers the day and has no such reference
	Pending        = "pending"         // no statement of the bank reaches the day yet
)

// Line is one tender or deposit in the report.
type Line struct {
	Tender
	Status string  `json:"status"`
	Credit *Credit `json:"credit,omitempty"` // the statement's credit it matched
}

// Report is the bank reconciliation: each recorded tender and deposit,
// and each statement credit no tender claims.
type Report struct {
	Lines     []Line         `json:"lines"`
	Unclaimed []Credit       `json:"unclaimed"`
	Counts    map[string]int `json:"counts"`
}

// Reconcile matches recorded bank tenders with the ledger's credits by
// bank and reference; a credit is claimed once (the first tender in time).
// loc is the day's time zone for "does a statement reach this day".
func Reconcile(ctx context.Context, l *Ledger, tenders []Tender, loc *time.Location) (Report, error) {
	if loc == nil {
		loc = time.UTC
	}
	credits, err := l.credits(ctx)
	if err != nil {
		return Report{}, err
	}
	covered, err := l.covered(ctx)
	if err != nil {
		return Report{}, err
	}
	byRef := map[[2]string][]int{}
	for i, c := range credits {
		k := [2]string{c.Bank, c.Reference}
		byRef[k] = append(byRef[k], i)
	}
	claimed := make([]bool, len(credits))
	tenders = slices.Clone(tenders)
	// In time, and in one order whatever order they came in (ties: the
	// report from the state kept at ingest and a scan of every event give
	// them in different orders, and which one claims a credit must not
	// depend on it).
	slices.SortStableFunc(tenders, func(a, b Tender) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Site, b.Site), cmp.Compare(a.Terminal, b.Terminal), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Bank, b.Bank), cmp.Compare(a.Reference, b.Reference), cmp.Compare(a.SaleID, b.SaleID), cmp.Compare(a.SettlementID, b.SettlementID), cmp.Compare(a.ShiftID, b.ShiftID))
	})
	rep := Report{Lines: []Line{}, Unclaimed: []Credit{}, Counts: map[string]int{Matched: 0, AmountMismatch: 0, UnknownAtBank: 0, Pending: 0}}
	for _, t := range tenders {
		ln := Line{Tender: t}
		idx := -1
		for _, i := range byRef[[2]string{t.Bank, t.Reference}] {
			if !claimed[i] {
				idx = i
				break
			}
		}
		switch {
		case idx >= 0:
			claimed[idx] = true
			c := credits[idx]
			ln.Credit = &c
			ln.Status = Matched
			if c.Amount != t.Amount || c.Currency != t.Currency {
				ln.Status = AmountMismatch
			}
		case covered[t.Bank] >= t.At.In(loc).Format("2006-01-02"):
			ln.Status = UnknownAtBank
		default:
			ln.Status = Pending
		}
		rep.Counts[ln.Status]++
		rep.Lines = append(rep.Lines, ln)
	}
	for i, c := range credits {
		if !claimed[i] {
			rep.Unclaimed = append(rep.Unclaimed, c)
		}
	}
	rep.Counts["unclaimed"] = len(rep.Unclaimed)
	slices.SortStableFunc(rep.Lines, func(a, b Line) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Bank, b.Bank), cmp.Compare(a.Reference, b.Reference))
	})
	return rep, nil
}
