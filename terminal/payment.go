package terminal

import (
	"context"
	"strings"
)

// CardCharge is an approved card payment as the card terminal (PDQ)
// reports it.
type CardCharge struct {
	Amount    Money  `json:"amount"`
	Approval  string `json:"approval"`             // the approval code printed on the PDQ slip
	CardLast4 string `json:"card_last4,omitempty"` // the card's last four digits
	Trace     int    `json:"trace,omitempty"`      // the PDQ's trace number, when integrated
}

// PaymentDevice takes a card payment of amount. Two kinds implement it
// (package terminal/pay): the manual PDQ, where the attendant charges a
// standalone terminal and keys its approval code, and an integrated PDQ
// driven over serial (ZVT). A declined card is an EINVALID error; a device
// that cannot tell whether it charged is an EDEVICE error saying what to
// check on the PDQ's screen.
type PaymentDevice interface {
	Charge(ctx context.Context, amount Money, reference string) (CardCharge, error)
}

// Tender returns the card tender that records c.
func (c CardCharge) Tender() TenderRequest {
	amt := c.Amount
	return TenderRequest{Kind: TenderCard, Amount: &amt, Reference: strings.ToUpper(c.Approval), CardLast4: c.CardLast4}
}
