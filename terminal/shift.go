package terminal

import (
	"slices"
	"strings"
	"time"
)

// Shift is an operator's period at the till, from opening float to counted
// cash.
type Shift struct {
	ID       string     `json:"id"`
	Operator string     `json:"operator"`
	OpenedAt time.Time  `json:"opened_at"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
	Float    Totals     `json:"float"`
	Counted  Totals     `json:"counted,omitempty"`
}

// ZReport is the end-of-shift report.
type ZReport struct {
	ShiftID  string    `json:"shift_id"`
	Terminal string    `json:"terminal"`
	Site     string    `json:"site"`
	Operator string    `json:"operator"`
	OpenedAt time.Time `json:"opened_at"`
	ClosedAt time.Time `json:"closed_at"`
	Sales    int       `json:"sales"`    // completed sales (paid or deferred), refunds excluded
	Refunds  int       `json:"refunds"`  // refund sales
	Voided   int       `json:"voided"`   // voided sales, excluded from every total
	Deferred int       `json:"deferred"` // passes issued with payment deferred to exit
	// Visitors is the people on the shift's sales that were not voided,
	// free entries (under-fives, exemptions) included; refunds do not
	// subtract.
	Visitors int `json:"visitors"`
	// DeferredDue is what those passes still owe, per currency.
	DeferredDue Totals `json:"deferred_due"`
	// Settlements is the number of deferred passes settled in this shift.
	Settlements int `json:"settlements"`
	// Tenders is money taken (net of change, refunds negative) by tender kind
	// and currency.
	Tenders  []TenderTotal `json:"tenders"`
	Float    Totals        `json:"float"`
	Expected Totals        `json:"expected_cash"` // float + net cash
	Counted  Totals        `json:"counted_cash"`
	Variance Totals        `json:"variance"` // counted − expected
	// OpenPasses are the shift's deferred passes still owed when it
	// closed, each named by OpenPassesBy, the supervisor who let the
	// shift close with them open. Absent: none was open.
	OpenPasses   []UnsettledPass `json:"open_passes,omitempty"`
	OpenPassesBy string          `json:"open_passes_by,omitempty"`
}

// TenderTotal is the money taken with one tender kind in one currency.
type TenderTotal struct {
	Tender   TenderKind `json:"tender"`
	Currency Currency   `json:"currency"`
	Amount   int64      `json:"amount"`
	Count    int        `json:"count"`
}

// People is the number of visitors a sale admits: the quantities of its
// entry lines.
func (s *Sale) People() int {
	n := 0
	for _, l := range s.Lines {
		if l.Kind == "entry" {
			n += l.Qty
		}
	}
	return n
}

// ShiftTender is a tender taken in a shift, with whether its sale was voided.
type ShiftTender struct {
	Tender
	Voided bool
}

// BuildZReport computes a Z-report from a shift's tenders. It is pure.
func BuildZReport(sh Shift, tenders []ShiftTender, counted Totals) ZReport {
	z := ZReport{
		ShiftID: sh.ID, Operator: sh.Operator, OpenedAt: sh.OpenedAt,
		Float: sh.Float.Clone(), Counted: counted.Clone(), Expected: sh.Float.Clone(),
		Variance: Totals{}, DeferredDue: Totals{},
	}
	idx := map[[2]string]int{}
	for _, t := range tenders {
		if t.Voided {
			continue
		}
		k := [2]string{string(t.Kind), string(t.Currency)}
		i, ok := idx[k]
		if !ok {
			i = len(z.Tenders)
			idx[k] = i
			z.Tenders = append(z.Tenders, TenderTotal{Tender: t.Kind, Currency: t.Currency})
		}
		z.Tenders[i].Amount += t.Net()
		z.Tenders[i].Count++
		if t.Kind == TenderCash {
			z.Expected[t.Currency] += t.Net()
		}
	}
	slices.SortFunc(z.Tenders, func(a, b TenderTotal) int {
		return strings.Compare(string(a.Tender)+string(a.Currency), string(b.Tender)+string(b.Currency))
	})
	for c := range z.Expected {
		z.Variance[c] = z.Counted[c] - z.Expected[c]
	}
	for c, v := range z.Counted {
		if _, ok := z.Expected[c]; !ok {
			z.Expected[c] = 0
			z.Variance[c] = v
		}
	}
	return z
}

// Deposit is a supervisor's banking of a closed shift's counted cash: the
// deposit slip's bank and reference, and the amount (the shift's counted
// cash in the base currency less its float). The hub matches it against the bank's
// statement, so a drawer's variance is followed to the bank.
type Deposit struct {
	ID        string    `json:"id"`
	ShiftID   string    `json:"shift_id"`
	Operator  string    `json:"operator"`
	Bank      string    `json:"bank"`
	Reference string    `json:"reference"`
	Currency  Currency  `json:"currency"`
	Amount    int64     `json:"amount"`
	At        time.Time `json:"at"`
}
