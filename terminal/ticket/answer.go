package ticket

import (
	"strings"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// Answer is a scanned ticket and what this terminal decides.
type Answer struct {
	No       string
	Ticket   *Ticket // nil when the number is not in the list
	Uses     []Use   // the uses known here, first first
	Refusal  *Refusal
	SaleID   string // the sale of the part of the party the ticket does not cover
	PrintJob string // its receipt's print job
}

// UseRequest is what the gate adds to a ticket it lets in: the party
// at the gate (catalogue codes and counts, as for a sale; empty: the
// ticket's own party), and, when that party is larger than the ticket, the
// vehicle and tenders of the sale of the difference.
type UseRequest struct {
	Party   []terminal.LineRequest
	Vehicle string
	Tenders []terminal.TenderRequest
}

// TicketReason is the pass refusal reason of a ticket check ("" when let
// in).
func (tc *Answer) TicketReason() pass.Reason {
	if tc.Refusal == nil {
		return ""
	}
	return tc.Refusal.Reason
}

// ExtraLines is the part of the party at the gate that t does not cover,
// as sale lines.
func ExtraLines(t *Ticket, party []terminal.LineRequest) []terminal.LineRequest {
	if len(party) == 0 {
		return nil
	}
	cov := Ticket{Party: t.Covered()}
	var atGate []Group
	for _, l := range party {
		atGate = append(atGate, Group{Category: strings.ToUpper(l.Code), Count: l.Qty})
	}
	var out []terminal.LineRequest
	for _, g := range Extra(&cov, atGate) {
		out = append(out, terminal.LineRequest{Code: g.Category, Qty: g.Count})
	}
	return out
}
