// Package carddesk charges an integrated card terminal (a ZVT PDQ) for a
// sale or a settlement exactly once, across crashes.
//
// Before the PDQ is asked to charge, a pending record is written durably
// to the data folder: what is being paid and the PDQ's last trace number.
// It is removed once the sale or settlement the charge pays is committed.
// If the terminal dies in between, Recover asks the PDQ what happened and
// completes the sale (or settlement) exactly once, or drops the record if
// nothing was charged. The command line (every card command, and `lango
// run` first) and the kiosk share it.
package carddesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pay"
	"github.com/lango-pos/lango/terminal/pay/zvt"
)

// Store is what the desk needs of the terminal's store (*sqlite.DB is one).
type Store interface {
	Setting(ctx context.Context, key string) (string, error)
	Catalogue(ctx context.Context) (*terminal.Catalogue, error)
	Operator(ctx context.Context, name string) (*terminal.Operator, error)
	PassIssuer(ctx context.Context) (terminal.PassIssuer, error)
	// TrySell runs a sale in full and rolls it back: the sale Sell would
	// record now, or its refusal.
	TrySell(ctx context.Context, op *terminal.Operator, req terminal.SaleRequest, passes terminal.PassIssuer) (*terminal.Sale, error)
	SellSigned(ctx context.Context, op *terminal.Operator, req terminal.SaleRequest) (*terminal.SaleResult, error)
	QuoteSettlement(ctx context.Context, text string) (*terminal.SettleQuote, error)
	Settle(ctx context.Context, op *terminal.Operator, text string, tenders []terminal.TenderRequest) (*terminal.SettleResult, error)
}

// Desk charges the PDQ of a terminal's pdq setting.
type Desk struct {
	DB Store
	// Path is the pending record's file (pdq-pending.json in the data
	// folder).
	Path   string
	Logger *slog.Logger
}

// pending is the durable record of a charge in progress.
type pending struct {
	Pending  zvt.Pending              `json:"pending"`
	Operator string                   `json:"operator"`
	Sale     *terminal.SaleRequest    `json:"sale,omitempty"`
	Pass     string                   `json:"pass,omitempty"`
	Tenders  []terminal.TenderRequest `json:"tenders"`
	Index    int                      `json:"index"` // the card tender to fill in
}

// HasIntegratedCard reports whether ts has a card tender with no approval
// code: one the PDQ is to charge.
func HasIntegratedCard(ts []terminal.TenderRequest) bool {
	for _, t := range ts {
		if t.AwaitsPDQ() {
			return true
		}
	}
	return false
}

// Integrated reports whether the terminal's pdq setting names an
// integrated PDQ.
func (d *Desk) Integrated(ctx context.Context) (bool, error) {
	v, err := d.DB.Setting(ctx, "pdq")
	if err != nil {
		return false, err
	}
	dev, _ := terminal.ParseDevice("pdq", v)
	return dev.Kind == "zvt", nil
}

func (d *Desk) log() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

func (d *Desk) dial(ctx context.Context) (*zvt.Client, error) {
	spec, err := d.DB.Setting(ctx, "pdq")
	if err != nil {
		return nil, err
	}
	setting, err := zvt.ParseSetting(spec)
	if err != nil {
		return nil, err
	}
	return zvt.Dial(setting, zvt.Config{Logger: d.log()})
}

// pendingRef marks, in a trial, the card tender the PDQ is to charge.
const pendingRef = "PENDING"

// cardIndex is the one card tender the PDQ is to charge in ts (-1: none).
func cardIndex(ts []terminal.TenderRequest) (int, error) {
	idx := -1
	for i, t := range ts {
		if t.AwaitsPDQ() {
			if idx >= 0 {
				return -1, terminal.Errorf(terminal.EINVALID, "only one card tender through the PDQ per sale")
			}
			idx = i
		}
	}
	return idx, nil
}

// ChargeSale charges the PDQ for req's integrated card tender and returns
// the request to commit, and done, to call once it is committed.
//
// The sale is first run through Sell and rolled back (the store's TrySell):
// whatever Sell would refuse is refused here, before the card is charged.
// If req.Quoted is set (the total the customer was shown), a price that
// changed since (sync switched catalogue) is refused so, ECONFLICT. The
// request returned is bound to the charge: its card tender carries the
// amount and currency the PDQ answered it charged, and Quoted the totals
// that amount pays, so Sell refuses it rather than record a tender for
// other than what the card paid. announce, if set, is told the amount
// before the customer is asked for the card.
func (d *Desk) ChargeSale(ctx context.Context, op *terminal.Operator, req terminal.SaleRequest, announce func(terminal.Money)) (terminal.SaleRequest, func(), error) {
	idx, err := cardIndex(req.Tenders)
	if err != nil || idx < 0 {
		return req, func() {}, err
	}
	if err := d.ready(ctx); err != nil {
		return req, nil, err
	}
	iss, err := d.DB.PassIssuer(ctx)
	if err != nil {
		return req, nil, err
	}
	trial := req
	trial.Tenders = append([]terminal.TenderRequest(nil), req.Tenders...)
	trial.Tenders[idx].Reference = pendingRef
	sale, err := d.DB.TrySell(ctx, op, trial, iss)
	if err != nil {
		return req, nil, err
	}
	var amount terminal.Money
	for _, t := range sale.Tenders {
		if t.Kind == terminal.TenderCard && t.Reference == pendingRef {
			amount = terminal.Money{Currency: t.Currency, Minor: t.Amount}
		}
	}
	if amount.Minor <= 0 {
		return req, nil, terminal.Errorf(terminal.EINVALID, "nothing is left for the card to pay")
	}
	bound := req
	bound.Quoted = sale.Totals.Clone()
	bound.Tenders = append([]terminal.TenderRequest(nil), req.Tenders...)
	charge, done, err := d.charge(ctx, op, amount, bound.Tenders, idx, &bound, "", announce)
	if err != nil {
		return req, nil, err
	}
	bound.Tenders = bindCard(bound.Tenders, idx, charge)
	return bound, done, nil
}

// bindCard fills the card tender at idx with what the PDQ answered: its
// approval, the card's last digits and the amount it charged.
func bindCard(ts []terminal.TenderRequest, idx int, charge terminal.CardCharge) []terminal.TenderRequest {
	out := append([]terminal.TenderRequest(nil), ts...)
	amt := charge.Amount
	out[idx].Reference, out[idx].CardLast4, out[idx].Amount = charge.Approval, charge.CardLast4, &amt
	return out
}

// Sell is the card desk's whole sale: ChargeSale, then Sell of the bound
// request, then the pending record cleared. A sale with no integrated
// card tender is only sold.
func (d *Desk) Sell(ctx context.Context, op *terminal.Operator, req terminal.SaleRequest, announce func(terminal.Money)) (*terminal.SaleResult, error) {
	bound, done, err := d.ChargeSale(ctx, op, req, announce)
	if err != nil {
		return nil, err
	}
	res, err := d.DB.SellSigned(ctx, op, bound)
	if err != nil {
		if idx, _ := cardIndex(req.Tenders); idx < 0 {
			return nil, err // no card was charged: Sell's refusal as it is
		}
		// The card was charged and the sale not recorded: the pending
		// record stays, and Recover (lango pdq recover) tries again.
		return nil, chargedNotRecorded(bound.Tenders, err)
	}
	done()
	return res, nil
}

// Settle is the card desk's whole settlement of a deferred pass:
// ChargeSettlement, then Settle, then the pending record cleared.
func (d *Desk) Settle(ctx context.Context, op *terminal.Operator, passText string, ts []terminal.TenderRequest, announce func(terminal.Money)) (*terminal.SettleResult, error) {
	out, done, err := d.ChargeSettlement(ctx, op, passText, ts, announce)
	if err != nil {
		return nil, err
	}
	res, err := d.DB.Settle(ctx, op, passText, out)
	if err != nil {
		if idx, _ := cardIndex(ts); idx < 0 {
			return nil, err // no card was charged
		}
		return nil, chargedNotRecorded(out, err) // the pending record stays
	}
	done()
	return res, nil
}

// ChargeSettlement charges the PDQ for the integrated card tender of a
// settlement of pass (its amount from the settlement quoted now); done is
// to be called once the settlement is committed. The card tender returned
// carries the amount the PDQ charged.
func (d *Desk) ChargeSettlement(ctx context.Context, op *terminal.Operator, passText string, ts []terminal.TenderRequest, announce func(terminal.Money)) ([]terminal.TenderRequest, func(), error) {
	idx, err := cardIndex(ts)
	if err != nil || idx < 0 {
		return ts, func() {}, err
	}
	if err := d.ready(ctx); err != nil {
		return nil, nil, err
	}
	q, err := d.DB.QuoteSettlement(ctx, passText)
	if err != nil {
		return nil, nil, err
	}
	cat, err := d.DB.Catalogue(ctx)
	if err != nil {
		return nil, nil, err
	}
	probe := append([]terminal.TenderRequest(nil), ts...)
	probe[idx].Reference = pendingRef
	tendering, err := terminal.ApplyTenders(cat, q.Totals, probe)
	if err != nil {
		return nil, nil, err
	}
	var amount terminal.Money
	for _, t := range tendering.Tenders {
		if t.Kind == terminal.TenderCard && t.Reference == pendingRef {
			amount = terminal.Money{Currency: t.Currency, Minor: t.Amount}
		}
	}
	charge, done, err := d.charge(ctx, op, amount, ts, idx, nil, passText, announce)
	if err != nil {
		return nil, nil, err
	}
	return bindCard(ts, idx, charge), done, nil
}

// ready checks there is an integrated PDQ and settles an interrupted
// payment first.
func (d *Desk) ready(ctx context.Context) error {
	if ok, err := d.Integrated(ctx); err != nil {
		return err
	} else if !ok {
		return terminal.Errorf(terminal.EINVALID, "no integrated PDQ is configured: key the approval code from the PDQ slip as card:CODE")
	}
	_, err := d.Recover(ctx)
	return err
}

// charge writes the pending record (sale, the request bound to the
// charge, or the pass being settled) and asks the PDQ to charge amount.
func (d *Desk) charge(ctx context.Context, op *terminal.Operator, amount terminal.Money, ts []terminal.TenderRequest, idx int, sale *terminal.SaleRequest, passText string, announce func(terminal.Money)) (terminal.CardCharge, func(), error) {
	client, err := d.dial(ctx)
	if err != nil {
		return terminal.CardCharge{}, nil, err
	}
	defer client.Close()
	pc := pending{
		Pending:  zvt.Pending{Reference: fmt.Sprintf("%d", time.Now().UnixNano()), Amount: amount, Started: time.Now()},
		Operator: op.Name, Sale: sale, Pass: passText, Tenders: ts, Index: idx,
	}
	if last, found, err := client.LastResult(ctx); err == nil && found {
		pc.Pending.LastTrace = last.Trace
	}
	b, _ := json.Marshal(pc)
	if err := writeFileSync(d.Path, b); err != nil {
		return terminal.CardCharge{}, nil, fmt.Errorf("record pending card payment: %w", err)
	}
	if announce != nil {
		announce(amount)
	}
	var dev terminal.PaymentDevice = pay.ZVT{Client: client}
	charge, err := dev.Charge(ctx, amount, pc.Pending.Reference)
	if err != nil {
		if !errors.Is(err, zvt.ErrOutcomeUnknown) {
			os.Remove(d.Path) // declined or never started: nothing charged
		}
		return terminal.CardCharge{}, nil, err
	}
	if charge.Amount.Currency == "" {
		charge.Amount = amount
	}
	return charge, func() { os.Remove(d.Path) }, nil
}

// chargedNotRecorded says that the card in ts was charged and what it
// paid was not recorded (err says why), keeping err's kind.
func chargedNotRecorded(ts []terminal.TenderRequest, err error) error {
	what := "the card"
	for _, t := range ts {
		if t.Kind == terminal.TenderCard && t.Amount != nil {
			what = fmt.Sprintf("the card was charged %s (approval %s)", *t.Amount, t.Reference)
		}
	}
	kind := terminal.ErrorKind(err)
	if kind == terminal.EINTERNAL {
		return fmt.Errorf("%s, not recorded: %w", what, err)
	}
	return &terminal.Error{Kind: kind, Err: err, Message: what + " but the payment could not be recorded: " + terminal.ErrorMessage(err) +
		"; it is kept as pending: lango pdq recover tries again, or refund it on the PDQ"}
}

// Recovery is what Recover found.
type Recovery struct {
	Outcome string // none, charged, not_charged, unknown
	Reason  string
	// Sale or SettlementID is what the charged payment was completed as.
	Sale         *terminal.Sale
	SettlementID string
	Amount       terminal.Totals
}

// Recover settles an interrupted card payment, if one is pending: from the
// PDQ's own record it completes the sale or settlement the card paid
// (once), or drops the record when nothing was charged; when the PDQ cannot
// tell, it says what the attendant must check.
func (d *Desk) Recover(ctx context.Context) (Recovery, error) {
	b, err := os.ReadFile(d.Path)
	if errors.Is(err, os.ErrNotExist) {
		return Recovery{Outcome: "none"}, nil
	}
	if err != nil {
		return Recovery{}, err
	}
	var pc pending
	if err := json.Unmarshal(b, &pc); err != nil {
		return Recovery{}, terminal.Errorf(terminal.EINTERNAL, "unreadable pending card record %s: %v", d.Path, err)
	}
	out := Recovery{Amount: terminal.Totals{pc.Pending.Amount.Currency: pc.Pending.Amount.Minor}}
	client, err := d.dial(ctx)
	if err != nil {
		return out, &terminal.Error{Kind: terminal.EDEVICE, Message: "an interrupted card payment of " + pc.Pending.Amount.String() + " must be checked first, but the card terminal is unreachable", Err: err}
	}
	defer client.Close()
	rec, err := client.Recover(ctx, pc.Pending)
	out.Outcome, out.Reason = string(rec.Outcome), rec.Reason
	if err != nil {
		return out, err
	}
	switch rec.Outcome {
	case zvt.OutcomeNotCharged:
		os.Remove(d.Path)
		return out, nil
	case zvt.OutcomeUnknown:
		return out, terminal.Errorf(terminal.EDEVICE, "cannot tell whether the card was charged %s: look at the PDQ's last transaction, then key it as card:APPROVAL or retry: %s", pc.Pending.Amount, rec.Reason)
	}
	charge := pay.ChargeOf(*rec.Last)
	if charge.Amount.Currency == "" {
		charge.Amount = pc.Pending.Amount
	}
	ts := bindCard(pc.Tenders, pc.Index, charge)
	op, err := d.DB.Operator(ctx, pc.Operator)
	if err != nil {
		return out, err
	}
	if pc.Sale != nil {
		req := *pc.Sale // bound to the charge: Quoted is what it pays
		req.Tenders = ts
		res, err := d.DB.SellSigned(ctx, op, req)
		if err != nil {
			return out, chargedNotRecorded(ts, err)
		}
		out.Sale = res.Sale
	} else if pc.Pass != "" {
		res, err := d.DB.Settle(ctx, op, pc.Pass, ts)
		if err != nil {
			return out, chargedNotRecorded(ts, err)
		}
		out.SettlementID = res.Settlement.ID
	}
	os.Remove(d.Path)
	return out, nil
}

// writeFileSync writes a file that must never be half-written: temp file,
// fsync, rename, fsync of the folder.
func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
