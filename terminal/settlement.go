package terminal

import "time"

// Settlement is the payment at exit of a pass whose payment was deferred. It
// references the pass and its issuing terminal, and stands on its own: the
// exit terminal may never have seen the sale.
type Settlement struct {
	ID             string       `json:"id"`
	PassID         string       `json:"pass_id"`
	IssuerTerminal string       `json:"issuer_terminal"`
	SaleID         string       `json:"sale_id,omitempty"` // when the sale was made at this terminal
	Terminal       string       `json:"terminal"`
	Site           string       `json:"site"`
	ShiftID        string       `json:"shift_id"`
	Operator       string       `json:"operator"`
	At             time.Time    `json:"at"`
	Due            Totals       `json:"due"`                // what the pass says is owed
	Overstay       []Line       `json:"overstay,omitempty"` // fees for staying past the pass's validity
	Totals         Totals       `json:"totals"`             // due + overstay
	Tenders        []Tender     `json:"tenders"`
	Conversions    []Conversion `json:"conversions,omitempty"`
	Plate          string       `json:"plate,omitempty"`
}
