package mpesa

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Tender is an M-PESA tender that a terminal recorded on a sale or a
// settlement, as uploaded to the hub.
type Tender struct {
	Code   string `json:"code"`
	Amount int64  `json:"amount"` // KES minor units
	// Account is the account reference the payer was asked to give
	// (the site's code); "" checks none.
	Account string `json:"account,omitempty"`
	// Paybill is the short code the tender was for (the site's
	// mpesa_paybill when it was taken); "" checks none.
	Paybill  string    `json:"paybill,omitempty"`
	Site     string    `json:"site"`
	Terminal string    `json:"terminal"`
	SaleID   string    `json:"sale_id"`
	At       time.Time `json:"at"`
}

// Status of a code in the report.
const (
	Matched    = "matched"    // M-PESA confirms the code and the amount
	Mismatched = "mismatched" // M-PESA knows the code, with another amount
	Unknown    = "unknown"    // M-PESA has not confirmed the code (yet)
	Duplicated = "duplicated" // the same code on two or more sales
	Pending    = "pending"    // a status query is out, no answer yet
)

// Line is one code in the reconciliation report.
type Line struct {
	Code     string   `json:"code"`
	Status   string   `json:"status"`
	Recorded int64    `json:"recorded"`          // KES minor units on the sale(s)
	Paid     int64    `json:"paid,omitempty"`    // what M-PESA says
	Source   string   `json:"source,omitempty"`  // c2b, status or pull
	Paybill  string   `json:"paybill,omitempty"` // the short code M-PESA says was paid
	Sales    []Tender `json:"sales"`             // the sale(s) that used it
	Detail   string   `json:"detail,omitempty"`
}

// Report is the M-PESA reconciliation. In the hub's report, Lines are
// the exceptions only (every code not matched), Counts count every code
// by status and Totals add them up by status and paybill.
type Report struct {
	Lines  []Line         `json:"lines"`
	Counts map[string]int `json:"counts"`
	Totals []Total        `json:"totals,omitempty"`
}

// The time window a payment must fall in around its tender: the driver
// pays, then the attendant keys the code (a payment up to WindowBefore
// before the tender), and the terminal's clock may run behind M-PESA's
// (up to WindowAfter after).
const (
	WindowBefore = 24 * time.Hour
	WindowAfter  = time.Hour
)

// check says why payment p does not match tender t: "" if it does, by
// amount (total of the tenders), paybill, account reference and time.
func check(t Tender, recorded int64, p Payment) string {
	switch {
	case p.Amount != recorded:
		return fmt.Sprintf("sale recorded %d, M-PESA paid %d (minor units)", recorded, p.Amount)
	case t.Paybill != "" && p.ShortCode != "" && p.ShortCode != t.Paybill:
		return fmt.Sprintf("paid to paybill %s; the sale was for paybill %s", p.ShortCode, t.Paybill)
	case t.Account != "" && p.Account != "" && !strings.EqualFold(strings.ReplaceAll(p.Account, " ", ""), strings.ReplaceAll(t.Account, " ", "")):
		return fmt.Sprintf("paid with account reference %q; the site's is %q", p.Account, t.Account)
	case !p.At.IsZero() && !t.At.IsZero() && (p.At.Before(t.At.Add(-WindowBefore)) || p.At.After(t.At.Add(WindowAfter))):
		return fmt.Sprintf("paid at %s, outside the window of the sale at %s", p.At.UTC().Format(time.RFC3339), t.At.UTC().Format(time.RFC3339))
	}
	return ""
}

// Reconcile matches recorded tenders with the ledger: a code's payment
// matches when its amount, paybill, account reference and time agree
// with the tender's. It reads every code given: the hub's report keeps
// each code's line as its tenders and the ledger change instead
// (LineOf), and lists only the exceptions (Summarize).
func Reconcile(ctx context.Context, l Ledger, tenders []Tender) (Report, error) {
	byCode := map[string][]Tender{}
	for _, t := range tenders {
		byCode[t.Code] = append(byCode[t.Code], t)
	}
	codes := make([]string, 0, len(byCode))
	for c := range byCode {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	rep := Report{Counts: map[string]int{}}
	for _, code := range codes {
		p, paid, err := l.MpesaPayment(ctx, code)
		if err != nil {
			return rep, err
		}
		var q Query
		var asked bool
		if !paid {
			if q, asked, err = l.MpesaQuery(ctx, code); err != nil {
				asked = false
			}
		}
		ln := LineOf(code, byCode[code], p, paid, q, asked)
		rep.Counts[ln.Status]++
		rep.Lines = append(rep.Lines, ln)
	}
	return rep, nil
}

// LineOf is the line of one code: its tenders (in the order they were
// taken), its payment if the ledger has one (paid) and its status query if
// one was asked.
func LineOf(code string, ts []Tender, p Payment, paid bool, q Query, asked bool) Line {
	ts = slices.Clone(ts)
	slices.SortStableFunc(ts, func(a, b Tender) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Terminal, b.Terminal), cmp.Compare(a.SaleID, b.SaleID))
	})
	ln := Line{Code: code, Sales: ts}
	for _, t := range ts {
		ln.Recorded += t.Amount
	}
	switch {
	case len(ts) > 1:
		ln.Status = Duplicated
		ln.Detail = fmt.Sprintf("used on %d sales", len(ts))
		if paid {
			ln.Paid, ln.Source = p.Amount, p.Source
		}
	case len(ts) == 1 && paid && check(ts[0], ln.Recorded, p) == "":
		ln.Status, ln.Paid, ln.Source, ln.Paybill = Matched, p.Amount, p.Source, p.ShortCode
	case len(ts) == 1 && paid:
		ln.Status, ln.Paid, ln.Source, ln.Paybill = Mismatched, p.Amount, p.Source, p.ShortCode
		ln.Detail = check(ts[0], ln.Recorded, p)
	default:
		ln.Status = Unknown
		if asked {
			if !q.Answered {
				ln.Status = Pending
			} else {
				ln.Detail = fmt.Sprintf("M-PESA: %d %s", q.ResultCode, q.ResultDesc)
			}
		}
	}
	return ln
}

// Total is what the codes of one status and paybill add up to: the
// paybill the tenders were for (the first tender's; "" when the site had
// none set), how many codes, what the sales recorded and what M-PESA paid
// (KES minor units).
type Total struct {
	Status   string `json:"status"`
	Paybill  string `json:"paybill"`
	Codes    int    `json:"codes"`
	Recorded int64  `json:"recorded"`
	Paid     int64  `json:"paid"`
}

// TotalOf is the total a line counts in: Total{Codes: 1} of its status,
// paybill, amounts.
func TotalOf(ln Line) Total {
	t := Total{Status: ln.Status, Codes: 1, Recorded: ln.Recorded, Paid: ln.Paid}
	if len(ln.Sales) > 0 {
		t.Paybill = ln.Sales[0].Paybill
	}
	return t
}

// Summarize makes the report's form of a full reconciliation: the lines
// that are exceptions only (every status but matched), the counts of
// every code, and totals by status and paybill (SortTotals' order).
func Summarize(full Report) Report {
	rep := Report{Lines: []Line{}, Counts: map[string]int{}, Totals: []Total{}}
	sums := map[[2]string]*Total{}
	for _, ln := range full.Lines {
		rep.Counts[ln.Status]++
		t := TotalOf(ln)
		k := [2]string{t.Status, t.Paybill}
		if s, ok := sums[k]; ok {
			s.Codes, s.Recorded, s.Paid = s.Codes+1, s.Recorded+t.Recorded, s.Paid+t.Paid
		} else {
			sums[k] = &t
		}
		if ln.Status != Matched {
			rep.Lines = append(rep.Lines, ln)
		}
	}
	for _, t := range sums {
		rep.Totals = append(rep.Totals, *t)
	}
	SortTotals(rep.Totals)
	return rep
}

// SortTotals orders totals by status, then paybill.
func SortTotals(ts []Total) {
	slices.SortFunc(ts, func(a, b Total) int {
		return cmp.Or(cmp.Compare(a.Status, b.Status), cmp.Compare(a.Paybill, b.Paybill))
	})
}

// Chase asks Daraja about every code still unknown whose sale is older than
// grace and that was not asked about already; it returns how many it asked.
func Chase(ctx context.Context, l Ledger, c *Client, tenders []Tender, grace time.Duration, now time.Time) (int, error) {
	rep, err := Reconcile(ctx, l, tenders)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ln := range rep.Lines {
		if ln.Status != Unknown || ln.Detail != "" {
			continue
		}
		if now.Sub(ln.Sales[0].At) < grace {
			continue
		}
		conv, err := c.QueryStatus(ctx, ln.Code)
		if err != nil {
			return n, err
		}
		if err := l.AskedMpesa(ctx, ln.Code, conv, now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
