// Package pay holds the payment devices of the terminal: the manual PDQ
// (the attendant keys what a standalone card terminal printed) and the
// integrated ZVT PDQ over serial. Both implement terminal.PaymentDevice.
package pay

import (
	"context"
	"fmt"
	"strings"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pay/zvt"
)

// Manual is a standalone PDQ: the attendant charges the card on it and keys
// the approval code (and the card's last four digits) from its slip. Most
// Kenyan counters work this way.
type Manual struct {
	Approval  string
	CardLast4 string
}

// Charge checks what was keyed and records it for amount.
func (m Manual) Charge(_ context.Context, amount terminal.Money, _ string) (terminal.CardCharge, error) {
	code, last4, err := terminal.NormalizeCardSlip(m.Approval, m.CardLast4)
	if err != nil {
		return terminal.CardCharge{}, err
	}
	if amount.Minor <= 0 || !amount.Currency.Valid() {
		return terminal.CardCharge{}, terminal.Errorf(terminal.EINVALID, "a card payment needs an amount")
	}
	return terminal.CardCharge{Amount: amount, Approval: code, CardLast4: last4}, nil
}

// ZVT is an integrated PDQ driven over serial with the ZVT protocol.
type ZVT struct {
	Client *zvt.Client
	// OnStatus receives the PDQ's intermediate texts ("insert card").
	OnStatus func(zvt.Status)
}

// Charge asks the PDQ to authorise amount and waits for its result.
func (z ZVT) Charge(ctx context.Context, amount terminal.Money, reference string) (terminal.CardCharge, error) {
	res, err := z.Client.Authorize(ctx, zvt.Request{Reference: reference, Amount: amount, OnStatus: z.OnStatus})
	if err != nil {
		return terminal.CardCharge{}, err
	}
	return ChargeOf(res), nil
}

// ChargeOf turns an approved ZVT result into a card charge; a result
// without an approval code is recorded by its trace number.
func ChargeOf(r zvt.Result) terminal.CardCharge {
	code := strings.ToUpper(strings.TrimSpace(r.Approval))
	if code == "" {
		code = fmt.Sprintf("T%06d", r.Trace)
	}
	if len(code) > 12 {
		code = code[:12]
	}
	return terminal.CardCharge{Amount: r.Amount, Approval: code, CardLast4: r.CardLast4, Trace: r.Trace}
}

var (
	_ terminal.PaymentDevice = Manual{}
	_ terminal.PaymentDevice = ZVT{}
)
