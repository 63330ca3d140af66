package hub

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/lango-pos/lango/sync/hub/mpesa"
)

// The report's M-PESA section is kept as its parts change: a code's line
// (mpesa.LineOf) depends on its tenders (the FactMpesa facts of the code)
// and on what the ledger holds of it (its payment, its status query). A
// store keeps one MpesaCode row per code and the codes' totals by
// terminal, status and paybill, and calls MpesaChanges for the codes that
// changed: in Apply's transaction for the codes of ReportDelta.Mpesa, and
// in the ledger's own writes (a payment recorded, a status query asked or
// answered) for that code. The report reads the rows not matched and the
// totals: its cost grows with the exceptions, not with the codes.

// MpesaCode is one code's reconciliation as a store keeps it: Terminal is
// the terminal whose totals count it (the terminal id of its first fact),
// Line the mpesa.Line as JSON when the code is not matched (nil when it
// is: the report does not list it).
type MpesaCode struct {
	Code, Terminal, Status, Paybill string
	Recorded, Paid                  int64
	Line                            []byte
}

// MpesaTotalDelta changes a terminal's totals row of a status and
// paybill: codes and amounts added (negative: taken away).
type MpesaTotalDelta struct {
	Terminal, Status, Paybill string
	Codes                     int
	Recorded, Paid            int64
}

// MpesaHeld is what a store holds of the codes MpesaChanges recomputes:
// every FactMpesa fact of each, the ledger's payments and status queries
// of them, and the MpesaCode rows kept, by code.
type MpesaHeld struct {
	Facts    map[string][]ReportFact
	Payments map[string]mpesa.Payment
	Queries  map[string]mpesa.Query
	Kept     map[string]MpesaCode
}

// MpesaChanges recomputes the lines of codes from held: the rows to write
// (those that changed; a code with no facts has no line) and what the
// totals gain and lose, with no two deltas of one row.
func MpesaChanges(codes []string, held MpesaHeld) ([]MpesaCode, []MpesaTotalDelta, error) {
	var rows []MpesaCode
	type totalKey struct{ terminal, status, paybill string }
	deltas := map[totalKey]*MpesaTotalDelta{}
	var order []totalKey
	add := func(c MpesaCode, sign int) {
		k := totalKey{c.Terminal, c.Status, c.Paybill}
		d, ok := deltas[k]
		if !ok {
			d = &MpesaTotalDelta{Terminal: c.Terminal, Status: c.Status, Paybill: c.Paybill}
			deltas[k] = d
			order = append(order, k)
		}
		d.Codes += sign
		d.Recorded += int64(sign) * c.Recorded
		d.Paid += int64(sign) * c.Paid
	}
	for _, code := range codes {
		fs := slices.Clone(held.Facts[code])
		if len(fs) == 0 {
			continue
		}
		slices.SortFunc(fs, func(a, b ReportFact) int {
			return cmp.Or(cmp.Compare(a.Terminal, b.Terminal), cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.N, b.N))
		})
		ts := make([]mpesa.Tender, len(fs))
		for i, f := range fs {
			var mb mpesaBody
			if err := json.Unmarshal(f.Body, &mb); err != nil {
				return nil, nil, fmt.Errorf("M-PESA code %s: a fact: %w", code, err)
			}
			ts[i] = mb.Tender
		}
		p, paid := held.Payments[code]
		q, asked := held.Queries[code]
		ln := mpesa.LineOf(code, ts, p, paid, q, asked)
		t := mpesa.TotalOf(ln)
		c := MpesaCode{Code: code, Terminal: fs[0].Terminal, Status: t.Status, Paybill: t.Paybill, Recorded: t.Recorded, Paid: t.Paid}
		if ln.Status != mpesa.Matched {
			raw, err := json.Marshal(ln)
			if err != nil {
				return nil, nil, fmt.Errorf("M-PESA code %s: %w", code, err)
			}
			c.Line = raw
		}
		old, had := held.Kept[code]
		if had && old.Terminal == c.Terminal && old.Status == c.Status && old.Paybill == c.Paybill && old.Recorded == c.Recorded &&
			old.Paid == c.Paid && bytes.Equal(old.Line, c.Line) {
			continue
		}
		if had {
			add(old, -1)
		}
		add(c, 1)
		rows = append(rows, c)
	}
	var out []MpesaTotalDelta
	for _, k := range order {
		if d := deltas[k]; d.Codes != 0 || d.Recorded != 0 || d.Paid != 0 {
			out = append(out, *d)
		}
	}
	return rows, out, nil
}
