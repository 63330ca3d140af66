package mpesa

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Tender is an M-PESA tender that a terminal recorded on a sale or a
// settlement, as uploaded to the hub.
type Tender struct {
	Code     string    `json:"code"`
	Amount   int64     `json:"amount"` // KES minor units
	Account  string    `json:"account,omitempty"`
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
	Recorded int64    `json:"recorded"`         // KES minor units on the sale(s)
	Paid     int64    `json:"paid,omitempty"`   // what M-PESA says
	Source   string   `json:"source,omitempty"` // c2b or status
	Sales    []Tender `json:"sales"`            // the sale(s) that used it
	Detail   string   `json:"detail,omitempty"`
}

// Report is the M-PESA reconciliation.
type Report struct {
	Lines  []Line         `json:"lines"`
	Counts map[string]int `json:"counts"`
}

// Reconcile matches recorded tenders with the ledger.
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
		ts := byCode[code]
		ln := Line{Code: code, Sales: ts}
		for _, t := range ts {
			ln.Recorded += t.Amount
		}
		p, ok, err := l.MpesaPayment(ctx, code)
		if err != nil {
			return rep, err
		}
		switch {
		case len(ts) > 1:
			ln.Status = Duplicated
			ln.Detail = fmt.Sprintf("used on %d sales", len(ts))
			if ok {
				ln.Paid, ln.Source = p.Amount, p.Source
			}
		case ok && p.Amount == ln.Recorded:
			ln.Status, ln.Paid, ln.Source = Matched, p.Amount, p.Source
		case ok:
			ln.Status, ln.Paid, ln.Source = Mismatched, p.Amount, p.Source
			ln.Detail = fmt.Sprintf("sale recorded %d, M-PESA paid %d (minor units)", ln.Recorded, p.Amount)
		default:
			ln.Status = Unknown
			if q, asked, err := l.MpesaQuery(ctx, code); err == nil && asked {
				if !q.Answered {
					ln.Status = Pending
				} else {
					ln.Detail = fmt.Sprintf("M-PESA: %d %s", q.ResultCode, q.ResultDesc)
				}
			}
		}
		rep.Counts[ln.Status]++
		rep.Lines = append(rep.Lines, ln)
	}
	return rep, nil
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
