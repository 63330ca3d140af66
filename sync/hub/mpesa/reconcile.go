package mpesa

import (
	"context"
	"fmt"
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

// Report is the M-PESA reconciliation.
type Report struct {
	Lines  []Line         `json:"lines"`
	Counts map[string]int `json:"counts"`
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
// with the tender's.
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
		case ok && check(ts[0], ln.Recorded, p) == "":
			ln.Status, ln.Paid, ln.Source, ln.Paybill = Matched, p.Amount, p.Source, p.ShortCode
		case ok:
			ln.Status, ln.Paid, ln.Source, ln.Paybill = Mismatched, p.Amount, p.Source, p.ShortCode
			ln.Detail = check(ts[0], ln.Recorded, p)
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
